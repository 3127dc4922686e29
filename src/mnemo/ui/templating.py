"""The page's Jinja2 environment (autoescape on for every template) and rendering."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader

from mnemo.clock import to_datetime
from mnemo.models import MemoryCategory

_ENV = Environment(
    loader=PackageLoader("mnemo.ui", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["when"] = lambda at: (
    at.strftime("%Y-%m-%d %H:%M UTC") if isinstance(at, datetime) else ""
)
_ENV.filters["when_us"] = lambda us: (
    "" if us is None else to_datetime(us).strftime("%Y-%m-%d %H:%M UTC")
)
_ENV.globals["categories"] = [c.value for c in MemoryCategory]


def htmx(request: Request) -> bool:
    """Whether htmx sent the request (it wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    visitor = getattr(request.state, "ui_visitor", None)
    page = {"visitor": visitor, "csrf": "" if visitor is None else visitor.csrf, **(context or {})}
    body = _ENV.get_template(template).render(page)
    return HTMLResponse(body, status_code=status_code, headers=headers)
