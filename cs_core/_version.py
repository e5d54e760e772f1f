"""The version of codesession, in one place."""

__version__ = "3.0.0"
