"""distillguard: stop distillation attacks at the edge of an LLM API."""

__version__ = "0.1.0"
