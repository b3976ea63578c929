"""enforce package."""
