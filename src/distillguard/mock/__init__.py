"""mock package."""
