"""The version of mnemo-client (client/pyproject.toml says the same; a test checks)."""

__version__ = "0.1.0"
