"""mnemo: a self-hosted memory service speaking the Omi Developer Memories API."""

from mnemo.app import create_app
from mnemo.config import Settings

__all__ = ["Settings", "__version__", "create_app"]
__version__ = "0.1.0"
