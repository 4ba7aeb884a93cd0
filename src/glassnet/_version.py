"""The version of glassnet, in one place."""

__version__ = "0.2.0"
