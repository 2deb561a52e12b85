"""mqchat: a terminal chat and MQTT debug client."""

__all__ = ["__version__"]

__version__ = "0.1.0"
