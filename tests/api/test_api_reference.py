"""docs/api.md stays true: every route the app serves, every operationId and every error
string the code can answer appears in it, verbatim; its JSON examples parse; and the
errors a real app answers to bad requests are the ones it lists."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

import mnemo
import mnemo_client.models
from mnemo import Settings, create_app
from mnemo.accounts import issue_key
from mnemo.errors import MnemoError, StoreError
from tests.helpers import MEMORIES

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
# The web page (mnemo.ui, its routes under /ui) has its own reference.
UI_REFERENCE = (ROOT / "docs" / "ui.md").read_text(encoding="utf-8")


def reference_of(where: str) -> str:
    """The reference that documents a module (`ui/...`) or a path (`/ui...`)."""
    return UI_REFERENCE if where.startswith(("ui/", "/ui")) else REFERENCE


SOURCE = Path(mnemo.__file__).parent
# The schemas the server validates requests with live in the client distribution
# (mnemo.models re-exports them): their validators' messages reach HTTP too.
SHARED_SCHEMAS = Path(mnemo_client.models.__file__)

# Code that never answers an HTTP request, and so is documented elsewhere: the command
# line (README, `mnemo --help`), its settings, and the offline tools of the categoriser
# and of search. (Import and export, users and keys are the admin API's too.)
NOT_HTTP_MODULES = {
    "cli.py",
    "config.py",
    "__main__.py",
    "categorize/train.py",
    "categorize/evaluate.py",
    "categorize/command.py",
    "search/build_model.py",
    "search/evaluate.py",
}
NOT_HTTP_FUNCTIONS: set[tuple[str, str]] = set()
# Pydantic validators of the request bodies: their ValueError messages reach the client
# as "Value error, <message>" inside a validation body.
VALIDATOR_MODULES = {"models.py"}


def _error_classes() -> dict[str, type[MnemoError]]:
    found: dict[str, type[MnemoError]] = {}
    todo: list[type[MnemoError]] = [MnemoError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


ERROR_CLASSES = _error_classes()


class _Details(ast.NodeVisitor):
    """Collects, from one module, every text that can become an error's `detail` (or a
    validation message): arguments of the project's error classes (their default when
    given none), `{"detail": ...}` and `{"msg": ...}` literals, attributes named
    `*detail`, and (in validator modules) ValueError messages. Names of module
    constants are resolved; an f-string becomes a pattern with its placeholders open."""

    def __init__(self, relative: str, tree: ast.Module) -> None:
        self.relative = relative
        self.validators = relative in VALIDATOR_MODULES
        self.constants = {
            target.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        self.attributes: dict[str, ast.expr] = {}
        self.found: list[tuple[str, str]] = []  # (where, pattern)
        self.function = ""
        self.class_name = ""
        for node in ast.walk(tree):  # `self.detail = f"..."` anywhere in the module
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute):
                        self.attributes[target.attr] = node.value

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        outer, self.class_name = self.class_name, node.name
        self.generic_visit(node)
        self.class_name = outer

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if (self.relative, node.name) in NOT_HTTP_FUNCTIONS:
            return
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        is_super_init = (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "__init__"
            and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "super"
            and self.class_name in ERROR_CLASSES
        )
        if name in ERROR_CLASSES and issubclass(ERROR_CLASSES[name], StoreError):
            # Over HTTP a store error answers its class's fixed words (mnemo.app); the
            # detail it is given (a file, a server, the cause) is for the log and the CLI.
            self._text(ERROR_CLASSES[name].default_detail)
        elif name in ERROR_CLASSES or is_super_init:
            if node.args:
                self._add(node.args[0])
            elif name:
                self._text(ERROR_CLASSES[name].default_detail)
        elif name == "ValueError" and self.validators and node.args:
            self._add(node.args[0])
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in ("detail", "msg"):
                self._add(value)
        self.generic_visit(node)

    def _add(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self._text(node.value)
        elif isinstance(node, ast.JoinedStr):
            parts = [
                re.escape(v.value) if isinstance(v, ast.Constant) else r"[^\n]+?"
                for v in node.values
            ]
            self.found.append((self._where(), "".join(parts)))
        elif isinstance(node, ast.IfExp):
            self._add(node.body)
            self._add(node.orelse)
        elif isinstance(node, ast.Name) and node.id in self.constants:
            self._add(self.constants[node.id])
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.endswith("detail")
            and node.attr in self.attributes
        ):
            self._add(self.attributes[node.attr])
        # Anything else (a value computed at run time, e.g. FastAPI's list) has no text.

    def _text(self, text: str) -> None:
        self.found.append((self._where(), re.escape(text)))

    def _where(self) -> str:
        return f"{self.relative}:{self.function or self.class_name or '<module>'}"


def error_patterns() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in [*sorted(SOURCE.rglob("*.py")), SHARED_SCHEMAS]:
        relative = path.relative_to(path.parent if path == SHARED_SCHEMAS else SOURCE).as_posix()
        if relative in NOT_HTTP_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        collector = _Details(relative, tree)
        collector.visit(tree)
        found.extend(collector.found)
    return found


def test_the_collector_finds_the_errors_it_must() -> None:
    """The static collection sees each kind of error site (else the next test proves
    nothing): a constant argument, a default detail, an f-string, a module constant,
    a `{"detail": ...}` literal, an attribute, a validator's ValueError."""
    patterns = {pattern for _, pattern in error_patterns()}
    for text in (
        "content cannot be empty",
        "Memory not found",
        "Database unavailable, try again shortly",
        "Invalid API Key",
        "Missing or invalid Authorization header. Must be 'Bearer API_KEY'",
        "Database unavailable",
        "Internal Server Error",
        "must not contain NUL characters",
        "JSON decode error",
    ):
        assert re.escape(text) in patterns, text
    for sample in (
        "Rate limit exceeded. Try again in 7s.",
        "Invalid category 'zz' is not a valid MemoryCategory",
        "Insufficient permissions. Required scope: memories:write",
        "Request body too large: the limit is 1024 bytes",
        "Request headers too large: the limit is 1024 bytes",
    ):
        assert any(re.fullmatch(p, sample) for p in patterns), sample
    # The admin API's errors are the API's; the exclusions name real code.
    assert any("user\\ name" in p for p in patterns)
    assert any("Unknown\\ scope" in p for p in patterns)
    for module in NOT_HTTP_MODULES:
        assert (SOURCE / module).is_file(), module
    for module, function in NOT_HTTP_FUNCTIONS:
        assert re.search(rf"def {function}\(", (SOURCE / module).read_text()), (module, function)


def test_every_error_string_of_the_code_is_in_the_reference() -> None:
    missing = sorted(
        {
            f"{where}: {pattern}"
            for where, pattern in error_patterns()
            if not re.search(pattern, reference_of(where))
        }
    )
    assert not missing, "not in docs/api.md (docs/ui.md for ui/):\n" + "\n".join(missing)


def _routes() -> Iterator[tuple[str, str, str | None]]:
    """(method, path, operationId) of every route the app serves."""
    app = create_app(Settings())
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation.get("operationId")
    for route in app.routes:  # the routes the OpenAPI document leaves out (/docs, ...)
        if isinstance(route, Route) and not route.include_in_schema:
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, route.path, None


def test_every_route_and_operation_id_is_in_the_reference() -> None:
    routes = list(_routes())
    assert len(routes) >= 14, routes  # 11 operations, /openapi.json, /docs and its helper
    for method, path, operation_id in routes:
        assert f"`{method} {path}`" in reference_of(path), (method, path)
        if operation_id is not None:
            assert f"`{operation_id}`" in REFERENCE, operation_id


def test_the_reference_json_examples_parse() -> None:
    blocks = re.findall(r"```json\n(.*?)```", REFERENCE, flags=re.DOTALL)
    assert len(blocks) >= 5
    for block in blocks:
        json.loads(block.replace("…", ""))


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A real app on a SQLite file, with the default limits, and a read-only key."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/api.db"))
    async with app.router.lifespan_context(app):
        _, key = await issue_key(app.state.mnemo.store, "alice", scopes=["memories:read"])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as client:
            yield client, {"Authorization": f"Bearer {key}"}


async def test_the_errors_a_real_app_answers_are_in_the_reference(served) -> None:
    """What the framework answers (not in mnemo's code) and what the code formats at
    run time, from real requests: each sentence appears in the reference verbatim."""
    client, key = served
    cases = [
        (404, client.get("/nowhere")),
        (405, client.put(MEMORIES, headers=key)),
        (401, client.get(MEMORIES)),
        (401, client.get(MEMORIES, headers={"Authorization": "Bearer omi_dev_" + "0" * 32})),
        (403, client.post(MEMORIES, json={"content": "x"}, headers=key)),
        (404, client.get(f"{MEMORIES}/missing", headers=key)),
        (400, client.get(MEMORIES, params={"categories": "nope"}, headers=key)),
        (413, client.post(MEMORIES, content=b"x" * (1024 * 1024 + 1), headers=key)),
        (431, client.get(MEMORIES, headers={**key, "X-Big": "y" * 16384})),
    ]
    for status, request in cases:
        response = await request
        detail = response.json()["detail"]
        assert response.status_code == status, detail
        assert isinstance(detail, str) and detail in REFERENCE, detail
