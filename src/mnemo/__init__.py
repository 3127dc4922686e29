"""mnemo: a self-hosted memory service speaking the Omi Developer Memories API.

`create_app` and `Settings` are imported on first use, so that the `mnemo` command
(and each `mnemo serve` worker as it starts) does not load the web stack before it
needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mnemo.app import create_app
    from mnemo.config import Settings

__all__ = ["Settings", "__version__", "create_app"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from mnemo.app import create_app

        return create_app
    if name == "Settings":
        from mnemo.config import Settings

        return Settings
    raise AttributeError(f"module 'mnemo' has no attribute {name!r}")
