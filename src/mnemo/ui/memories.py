"""A user's view: their memories (list, filters, search, create, inline edit, delete,
bulk delete), a memory's history, and export and import of their memories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from mnemo.api.deps import charge, components
from mnemo.api.memories import parse_update
from mnemo.auth import require_scope
from mnemo.errors import BadRequest, NotFound, Unprocessable
from mnemo.models import (
    MAX_QUERY_CHARS,
    MAX_SEARCH_LIMIT,
    MAX_TAG_CHARS,
    Memory,
    MemoryCreate,
    SearchItem,
)
from mnemo.store import WRITE_SCOPE
from mnemo.transfer import decode_lines, export_lines, import_user_memories, user_memories
from mnemo.ui.route import UserRoute, form_issues, notice, visitor_key
from mnemo.ui.security import PREFIX
from mnemo.ui.templating import htmx, render

PAGE_SIZE = 50  # memories a page of the list shows; "Show more" fetches the next
MAX_BULK = 500  # memories one bulk delete may name
IMPORT_PATH = f"{PREFIX}/import"
CHANGED = "memories-changed"  # the event that makes the page fetch its list again

router = APIRouter(prefix=PREFIX, route_class=UserRoute, include_in_schema=False)

MAX_FIELD_CHARS = 10_000  # a form field as typed (the API's limits then apply)


@router.get("/memories")
async def memories(
    request: Request,
    order: Literal["important", "newest"] = "important",
    category: Annotated[str, Query(max_length=200)] = "",
    tag: Annotated[str, Query(max_length=MAX_TAG_CHARS)] = "",
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The list (or, with `q`, the search's best matches), a page at a time."""
    key = visitor_key(request)
    service = components(request).service
    tag = tag.strip()
    items: list[Memory] | list[SearchItem]
    if q.strip():
        found = await service.search(key.user_id, q, MAX_SEARCH_LIMIT, category or None)
        items = [item for item in found if not tag or tag in item.tags]
        total, more = len(items), None
    else:
        items, total = await service.browse(
            key.user_id, category or None, tag, order == "newest", PAGE_SIZE, offset
        )
        more = offset + PAGE_SIZE if offset + len(items) < total else None
    context: dict[str, Any] = {
        "items": items,
        "total": total,
        "more": more,
        "searching": bool(q.strip()),
        "filters": {"order": order, "category": category, "tag": tag, "q": q},
        "can_write": WRITE_SCOPE in key.scopes,
        "search_limit": MAX_SEARCH_LIMIT,
    }
    if htmx(request):
        return render(request, "_more.html" if offset else "_results.html", context)
    return render(request, "memories.html", context)


class MemoryForm(BaseModel):
    """The create and edit forms' fields as typed (tags comma-separated); the API's own
    checks follow (`MemoryCreate`, `parse_update`). A blank field is not given."""

    content: str = Field("", max_length=MAX_FIELD_CHARS)
    category: str = Field("", max_length=100)
    visibility: str = Field("", max_length=100)
    tags: str = Field("", max_length=MAX_FIELD_CHARS)

    def given(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "category": self.category or None,
            "visibility": self.visibility or None,
            "tags": [tag.strip() for tag in self.tags.split(",") if tag.strip()],
        }


Fields = Annotated[MemoryForm, Form()]


@router.post("/memories")
async def create(request: Request, form: Fields) -> Response:
    """A new memory; without a category, the server's choice is shown."""
    key = visitor_key(request)
    found = components(request)
    given = {name: value for name, value in form.given().items() if value is not None}
    try:
        body = MemoryCreate.model_validate(given)
    except ValidationError as error:
        raise form_issues(error) from None
    await charge(found, key, len(body.content), request.scope.setdefault("state", {}))
    created = await found.service.create_memory(key.user_id, body)
    if created.duplicate_of is not None:
        return notice(request, "Not stored: it repeats a memory you have, kept as it was.", CHANGED)
    how = "you chose" if body.category is not None else "chosen by the server"
    return notice(request, f"Saved, in the category {created.category} ({how}).", CHANGED)


@router.post("/memories/bulk-delete")
async def bulk_delete(
    request: Request,
    ids: Annotated[list[str], Form(max_length=MAX_BULK)] = [],  # noqa: B006
) -> Response:
    """Every named memory of the user's (ids of none of theirs are passed over)."""
    if not ids:
        raise BadRequest("Select at least one memory to delete")
    key = visitor_key(request)
    service = components(request).service
    deleted = 0
    for memory_id in dict.fromkeys(ids):
        try:
            await service.delete_memory(key.user_id, memory_id)
            deleted += 1
        except NotFound:
            pass
    plural = "memory" if deleted == 1 else "memories"
    return notice(request, f"Deleted {deleted} {plural} permanently.", CHANGED)


async def _memory(request: Request, memory_id: str) -> Memory:
    raw = await components(request).service.get_memory_json(visitor_key(request).user_id, memory_id)
    return Memory.model_validate_json(raw)


def _card(request: Request, memory: Memory, template: str = "_one_card.html") -> Response:
    can_write = WRITE_SCOPE in visitor_key(request).scopes
    return render(request, template, {"m": memory, "can_write": can_write})


@router.get("/memories/{memory_id}")
async def card(request: Request, memory_id: str) -> Response:
    return _card(request, await _memory(request, memory_id))


@router.get("/memories/{memory_id}/edit")
async def edit_form(request: Request, memory_id: str) -> Response:
    require_scope(visitor_key(request), WRITE_SCOPE)  # a read-only key has no edit form
    return _card(request, await _memory(request, memory_id), "_edit.html")


@router.post("/memories/{memory_id}")
async def update(request: Request, memory_id: str, form: Fields) -> Response:
    """Content, category, visibility and tags, as the API's PATCH validates them."""
    key = visitor_key(request)
    found = components(request)
    raw = form.given()
    patch = parse_update(raw, where=lambda loc: loc)
    await charge(found, key, len(patch.content or ""), request.scope.setdefault("state", {}))
    memory = await found.service.update_memory(key.user_id, memory_id, patch)
    response = _card(request, memory)
    response.headers["HX-Trigger"] = CHANGED
    return response


@router.post("/memories/{memory_id}/delete")
async def delete(request: Request, memory_id: str) -> Response:
    await components(request).service.delete_memory(visitor_key(request).user_id, memory_id)
    return notice(request, "Deleted permanently.", CHANGED)


@router.get("/memories/{memory_id}/history")
async def history(request: Request, memory_id: str) -> Response:
    key = visitor_key(request)
    entries = await components(request).service.memory_history(key.user_id, memory_id)
    try:
        memory: Memory | None = await _memory(request, memory_id)
    except NotFound:
        memory = None  # deleted: its history is the tombstone
    return render(
        request, "history.html", {"entries": entries, "m": memory, "memory_id": memory_id}
    )


@router.get("/export")
async def export(request: Request) -> StreamingResponse:
    """The user's line, conversations, action items and memories (`mnemo export --user`'s,
    without key records)."""
    key = visitor_key(request)
    store = components(request).store

    async def lines() -> AsyncIterator[bytes]:
        async for line in export_lines(store, key.user_name, keys=False):
            yield (line + "\n").encode()

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="mnemo-{key.user_name}.jsonl"'},
    )


@router.post("/import")
async def import_file(request: Request, file: Annotated[UploadFile, File()]) -> Response:
    """An export's memories, into this user's; every line checked first (a bad one is
    named, and nothing is stored); their characters count against the key's budget."""
    key = visitor_key(request)
    found = components(request)
    try:
        memories = user_memories(decode_lines(await file.read()))
    except BadRequest as error:
        raise Unprocessable(f"{error.detail}. Nothing was imported.") from None
    characters = sum(len(m.content) for m in memories)
    await charge(found, key, characters, request.scope.setdefault("state", {}))
    retrieval = found.service.retrieval

    async def embed(contents: Any) -> list[bytes]:
        return await retrieval.vectors(contents, background=True)

    counts = await import_user_memories(found.store, key.user_id, memories, embed)
    added, existing = counts.added["memory"], counts.existing["memory"]
    return notice(request, f"Imported: {added} memories added, {existing} already there.", CHANGED)
