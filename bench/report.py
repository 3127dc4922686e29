"""Turn a run's raw results into bench/results/<date>.md (and keep the raw .json beside it).

    .venv/bin/python bench/report.py RESULTS.json [--out-dir bench/results]

run.py calls `write()` at the end of a run; running this module again on a saved
results.json re-renders the report without measuring anything.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import platform
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# -- the machine ----------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _cmd(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip()


def _sqlite_version() -> str:
    """The SQLite library mnemo's store runs on (its driver's), else the stdlib's."""
    try:
        from mnemo.store import sqlite_db

        return str(sqlite_db.sqlite3.sqlite_version)
    except (ImportError, AttributeError):
        return sqlite3.sqlite_version


def machine() -> dict[str, str]:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in _read("/proc/cpuinfo").splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    hypervisor = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in _cmd(["lscpu"]).splitlines()
            if ln.startswith("Hypervisor vendor")
        ),
        "",
    )
    mem_kb = next(
        (
            int(ln.split()[1])
            for ln in _read("/proc/meminfo").splitlines()
            if ln.startswith("MemTotal")
        ),
        0,
    )
    os_name = next(
        (
            ln.split("=", 1)[1].strip('"')
            for ln in _read("/etc/os-release").splitlines()
            if ln.startswith("PRETTY_NAME=")
        ),
        platform.system(),
    )
    versions = {}
    for name in (
        "fastapi",
        "starlette",
        "granian",
        "pydantic",
        "pydantic-core",
        "asyncpg",
    ):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "-"
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-Atc"]
    pg = _cmd([*psql, "SHOW server_version"]) or "?"
    pg_sync = _cmd([*psql, "SELECT setting FROM pg_settings WHERE name = 'synchronous_commit'"])
    commit = _cmd(["git", "rev-parse", "--short", "HEAD"])
    dirty = bool(_cmd(["git", "status", "--porcelain", "--untracked-files=no", "src"]))
    return {
        "cpu": cpu + (f" ({hypervisor} guest)" if hypervisor else ""),
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{os_name}, Linux {platform.release()}",
        "python": platform.python_version(),
        "mnemo": f"{md.version('mnemo')} at {commit}"
        + (" (src/ has local changes)" if dirty else ""),
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "sqlite": _sqlite_version(),
        "postgresql": pg + (f" (synchronous_commit={pg_sync})" if pg_sync else ""),
        "wrk": _cmd(["wrk", "-v"]).splitlines()[0] if _cmd(["wrk", "-v"]) else "?",
    }


# -- rendering ------------------------------------------------------------------

TARGET_P99_MS, TARGET_DEEP = 20.0, 2.0
BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
SHAPES = ("hello", "list 25", "get one", "post echo")  # bench/floor.py's routes
# Issue 13's targets (1 worker, 32 connections unless said otherwise).
TARGET_READ = {"sqlite": 1.0, "postgres": 0.8}  # × the FastAPI 25-item list floor
TARGET_CREATE = 0.5  # × the FastAPI POST echo floor
TARGET_CREATE_P99_MS = 30.0
TARGET_BATCH = 10.0  # × the batch's memories per second before issue 13 (BASELINE)
TARGET_SEARCH_P50_MS = 10.0  # at 1 connection, 10,000 memories
# "Today's" batch figures when issue 13 was filed: the last full run before it.
BASELINE = Path(__file__).resolve().parent / "results" / "2026-11-26.json"


def _f(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _rows(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["route"]: row for row in block["rows"]}


def _block(results: dict[str, Any], backend: str, workers: int) -> dict[str, Any] | None:
    return next(
        (b for b in results["blocks"] if b["backend"] == backend and b["workers"] == workers),
        None,
    )


def _measured(results: dict[str, Any]) -> dict[str, Any]:
    """The results without the blocks of older runs that measured proposed changes with
    monkeypatches (their "variant" is not "baseline"): those are not mnemo as shipped."""
    blocks = [b for b in results["blocks"] if b.get("variant", "baseline") == "baseline"]
    return {**results, "blocks": blocks}


def _route_names(results: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for block in results["blocks"]:
        for row in block["rows"]:
            if row["route"] not in names and row["connections"] > 1:
                names.append(row["route"])
    return names


def _floor_rows(block: dict[str, Any]) -> dict[str, float]:
    """Floor route -> mean req/s ("fastapi floor: list 25"...); a run from before the
    shaped floors measured hello-world only, as "fastapi floor"."""
    sums: dict[str, list[float]] = {}
    for m in block["floors"]:
        route = m["route"] if ":" in m["route"] else m["route"] + ": hello"
        sums.setdefault(route, []).append(m["rps"])
    return {k: sum(v) / len(v) for k, v in sums.items()}


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return _f(value, 3 if value < 0.01 else 2)


def _headline(results: dict[str, Any], workers: int) -> list[str]:
    backends = [b for b in BACKENDS if _block(results, b, workers)]
    if not backends:
        return []
    head = "| route | floor shape |" + "".join(
        f" {BACKENDS[b]} req/s | × shape floor | × hello floor | p50 ms | p99 ms |"
        for b in backends
    )
    lines = [head, "|---|---|" + "---:|---:|---:|---:|---:|" * len(backends)]
    floors = {b: _floor_rows(_block(results, b, workers)) for b in backends}  # type: ignore[arg-type]
    for app, name in (("fastapi", "FastAPI"), ("starlette", "Starlette")):
        for shape in SHAPES:
            if not any(f"{app} floor: {shape}" in floors[b] for b in backends):
                continue
            cells = []
            for b in backends:
                rps = floors[b].get(f"{app} floor: {shape}")
                base = floors[b].get(f"fastapi floor: {shape}")
                hello = _block(results, b, workers)["floor_fastapi_rps"]  # type: ignore[index]
                cells.append(
                    f" {_f(rps)} | {_ratio(rps / base if rps and base else None)} |"
                    f" {_ratio(rps / hello if rps else None)} | | |"
                )
            lines.append(f"| *minimal {name} app: {shape}* | {shape} |" + "".join(cells))
    for route in _route_names(results):
        cells = []
        shape = ""
        for b in backends:
            row = _rows(_block(results, b, workers)).get(route)  # type: ignore[arg-type]
            if row is None:
                cells.append(" - | - | - | - | - |")
                continue
            shape = shape or row.get("shape", "")
            flag = " ⚠" if row["errors"] else ""
            p99 = (
                f"**{_f(row['p99_ms'], 1)}**"
                if row["p99_ms"] >= TARGET_P99_MS
                else _f(row["p99_ms"], 1)
            )
            rps = _f(row["rps"], 1 if row["rps"] < 10 else 0)
            if row["requests"] == 0:
                rps, p99 = f"0 (none in {row['duration_s']:.0f} s)", "> 5,000"
            cells.append(
                f" {rps}{flag} | {_ratio(row.get('shape_ratio'))} | {_ratio(row['ratio'])} |"
                f" {_f(row['p50_ms'], 1)} | {p99} |"
            )
        lines.append(f"| {route} | {shape or '-'} |" + "".join(cells))
    return lines


# The deep-page rows of the target, each judged on its own: a page served from a
# bookmark (mnemo.store.bookmarks) is cheap wherever it is, so a pass for repeated or
# walked pages says nothing about a deep page asked for the first time.
DEEP_KINDS = {
    "other": "the big user's first page",
    "repeated": "a deep page asked for again (from a bookmark after the first request)",
    "walked": "deep pages walked in order (each from the bookmark the page before left)",
    "cold": "cold deep jumps (no bookmark: OFFSET walks the index)",
}


def _deep_kind(route: str) -> str:
    if "cold deep jumps" in route:
        return "cold"
    if "walking deep pages" in route:
        return "walked"
    if "repeated" in route:
        return "repeated"
    return "other"


def _targets(results: dict[str, Any]) -> list[str]:
    lines = [
        "| target | " + " | ".join(BACKENDS[b] for b in BACKENDS if _block(results, b, 1)) + " |"
    ]
    backends = [b for b in BACKENDS if _block(results, b, 1)]
    lines.append("|---|" + "---|" * len(backends))
    routes = _route_names(results)
    first = next(r for r in routes if r.startswith("list 25, first page (1,000"))

    def cell(ok: bool, text: str) -> str:
        return ("met: " if ok else "**missed**: ") + text

    row_p99 = []
    row_deep: dict[str, list[str]] = {kind: [] for kind in DEEP_KINDS}
    for b in backends:
        rows = _rows(_block(results, b, 1))  # type: ignore[arg-type]
        lst = rows[first]
        slow = [
            (r, rows[r]["p99_ms"])
            for r in routes
            if r in rows and rows[r]["p99_ms"] >= TARGET_P99_MS
        ]
        worst = max((rows[r]["p99_ms"] for r in routes if r in rows), default=0.0)
        row_p99.append(
            cell(
                not slow,
                f"{len(slow)} of {len([r for r in routes if r in rows])} routes at or over"
                f" 20 ms (worst {worst:.1f} ms)",
            )
        )
        deep = [r for r in routes if r.startswith("list 25") and r != first and r in rows]
        for kind in DEEP_KINDS:
            mine = [r for r in deep if _deep_kind(r) == kind]
            if not mine:
                row_deep[kind].append("not measured")
                continue
            worst_ratio = max(lst["rps"] / max(rows[r]["rps"], 1e-9) for r in mine)
            worst_p50 = max(rows[r]["p50_ms"] / lst["p50_ms"] for r in mine)
            notes = "".join(f" (⚠ {rows[r]['note']})" for r in mine if rows[r].get("note"))
            row_deep[kind].append(
                cell(
                    worst_ratio <= TARGET_DEEP and worst_p50 <= TARGET_DEEP,
                    f"{'worst ' if len(mine) > 1 else ''}{worst_ratio:.2f}× fewer req/s,"
                    f" {worst_p50:.2f}× the p50{notes}",
                )
            )
    lines += _issue13(results, backends, first)
    lines.append(
        "| (earlier target) p99 < 20 ms, every route, 32 connections, 1 worker | "
        + " | ".join(row_p99)
        + " |"
    )
    older = any(
        r.startswith("list 25") and _deep_kind(r) == "other" and "first page" not in r
        for r in routes
    )
    for kind, what in DEEP_KINDS.items():
        if kind == "other" and older:
            what += " and deep pages (a run from before bookmarks: each an OFFSET walk)"
        if any(c != "not measured" for c in row_deep[kind]):
            lines.append(
                "| deep offsets and the big user within 2× of a 1,000-memory first page:"
                f" {what} | " + " | ".join(row_deep[kind]) + " |"
            )
    return lines


def _baseline_batch() -> dict[str, float]:
    """Backend -> memories per second of a batch create per hello-world floor request/s,
    1 worker, in BASELINE (the run before issue 13): machine-independent "today"."""
    try:
        old = json.loads(BASELINE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for block in old["blocks"]:
        row = _rows(block).get("batch create of 25")
        if block["workers"] == 1 and row and block.get("variant", "baseline") == "baseline":
            found[block["backend"]] = row["rps"] * 25 / block["floor_fastapi_rps"]
    return found


def _issue13(results: dict[str, Any], backends: list[str], first: str) -> list[str]:
    """Issue 13's targets, met or missed, from this run's 1-worker figures."""

    def cell(ok: bool | None, text: str) -> str:
        if ok is None:
            return text
        return ("met: " if ok else "**missed**: ") + text

    def p99(row: dict[str, Any], limit: float) -> tuple[bool, str]:
        return row["p99_ms"] < limit, f"p99 {row['p99_ms']:.1f} ms (p50 {row['p50_ms']:.1f})"

    baseline = _baseline_batch()
    table: dict[str, list[str]] = {}

    def add(name: str, text: str) -> None:
        table.setdefault(name, []).append(text)

    for b in backends:
        block = _block(results, b, 1)
        rows = _rows(block)  # type: ignore[arg-type]
        floors = _floor_rows(block)  # type: ignore[arg-type]
        list_floor = floors.get("fastapi floor: list 25")
        post_floor = floors.get("fastapi floor: post echo")
        want = TARGET_READ[b]
        name_read = (
            f"list 25 and get by id ≥ {TARGET_READ['sqlite']:.1f} × the FastAPI 25-item list"
            f" floor (SQLite), ≥ {TARGET_READ['postgres']:.1f} × (PostgreSQL)"
        )
        reads = (("list 25 (first page)", first), ("get by id", "get by id"))
        for label, route in reads:
            row = rows.get(route)
            if row is None:
                continue
            if list_floor is None:
                add(f"{name_read}: {label}", "not measured (no 25-item floor in this run)")
                continue
            ratio = row["rps"] / list_floor
            extra = (
                f" ({_ratio(row['shape_ratio'])} × its own shape's floor)"
                if label == "get by id" and row.get("shape_ratio") is not None
                else ""
            )
            add(f"{name_read}: {label}", cell(ratio >= want, f"{ratio:.2f} ×{extra}"))
        for label, route in reads:
            if route in rows:
                add(
                    f"{label}: p99 < {TARGET_P99_MS:.0f} ms at 32 connections",
                    cell(*p99(rows[route], TARGET_P99_MS)),
                )
        create = rows.get("create")
        if create is not None and post_floor is not None:
            ratio = create["rps"] / post_floor
            add(
                f"create ≥ {TARGET_CREATE} × the FastAPI POST echo floor, durable",
                cell(ratio >= TARGET_CREATE, f"{ratio:.2f} ×"),
            )
        if create is not None:
            add(
                f"create p99 < {TARGET_CREATE_P99_MS:.0f} ms at 32 connections",
                cell(*p99(create, TARGET_CREATE_P99_MS)),
            )
        batch = rows.get("batch create of 25")
        if batch is not None:
            per_floor = batch["rps"] * 25 / block["floor_fastapi_rps"]  # type: ignore[index]
            before = baseline.get(b)
            text = f"{batch['rps'] * 25:,.0f} memories/s"
            if before:
                gain = per_floor / before
                add(
                    f"batch of 25 ≥ {TARGET_BATCH:.0f} × the memories per second before"
                    f" issue 13 ({BASELINE.name}, both per hello-world floor req/s)",
                    cell(gain >= TARGET_BATCH, f"{gain:.1f} × ({text})"),
                )
            else:
                add("batch of 25: memories per second", text)
        search = block.get("search")  # type: ignore[union-attr]
        for kind, label in (
            ("steady", "searches in a row"),
            ("after_write", "right after a write"),
        ):
            name = (
                f"search p50 < {TARGET_SEARCH_P50_MS:.0f} ms at 10,000 memories, 1 connection:"
                f" {label}"
            )
            if not search:
                add(name, "not measured")
                continue
            m = search[kind]
            add(
                name,
                cell(
                    m["p50_ms"] < TARGET_SEARCH_P50_MS
                    and search["memories"] >= 10_000
                    and not search["errors"],
                    f"p50 {m['p50_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms ({m['count']} searches"
                    f", {search['memories']:,} memories"
                    + (f", {search['errors']} non-200 answers" if search["errors"] else "")
                    + ")",
                ),
            )
    return [f"| {name} | " + " | ".join(cells) + " |" for name, cells in table.items()]


def _scaling(results: dict[str, Any]) -> list[str]:
    lines = [
        "| route | "
        + " | ".join(f"{BACKENDS[b]} 1 → 2 workers" for b in BACKENDS if _block(results, b, 2))
        + " |"
    ]
    backends = [b for b in BACKENDS if _block(results, b, 1) and _block(results, b, 2)]
    if not backends:
        return []
    lines.append("|---|" + "---:|" * len(backends))
    one = {b: _block(results, b, 1) for b in backends}
    two = {b: _block(results, b, 2) for b in backends}
    cells = []
    for b in backends:
        f1, f2 = one[b]["floor_fastapi_rps"], two[b]["floor_fastapi_rps"]  # type: ignore[index]
        cells.append(f"{_f(f1)} → {_f(f2)} req/s (×{f2 / f1:.2f})")
    lines.append("| *minimal FastAPI app* | " + " | ".join(cells) + " |")
    for route in _route_names(results):
        cells = []
        for b in backends:
            r1 = _rows(one[b]).get(route)  # type: ignore[arg-type]
            r2 = _rows(two[b]).get(route)  # type: ignore[arg-type]
            if r1 and r2:
                change = f"×{r2['rps'] / r1['rps']:.2f}" if r1["rps"] else "-"
                cells.append(
                    f"{_f(r1['rps'], 1 if r1['rps'] < 10 else 0)} →"
                    f" {_f(r2['rps'], 1 if r2['rps'] < 10 else 0)} ({change})"
                )
            else:
                cells.append("-")
        lines.append(f"| {route} | " + " | ".join(cells) + " |")
    return lines


def _growth(results: dict[str, Any]) -> list[str]:
    if not results.get("growth"):
        return []
    lines = [
        "| backend | route | 1,000 memories: req/s (× floor), p99 | "
        "1,000,000 memories: req/s (× floor), p99 | change in × floor |",
        "|---|---|---:|---:|---:|",
    ]
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for g in results["growth"]:
        by_backend.setdefault(g["backend"], []).append(g)
    for backend, points in by_backend.items():
        points.sort(key=lambda g: g["memories"])
        if len(points) < 2:
            continue
        small, large = points[0], points[-1]
        for route, row in _rows(small).items():
            other = _rows(large).get(route)
            if other is None:
                continue
            lines.append(
                f"| {BACKENDS[backend]} | {route} | {_f(row['rps'])} ({row['ratio']:.2f}), "
                f"{row['p99_ms']:.1f} ms | {_f(other['rps'])} ({other['ratio']:.2f}), "
                f"{other['p99_ms']:.1f} ms | {other['ratio'] / row['ratio'] - 1:+.0%} |"
            )
        lines.append(
            f"| {BACKENDS[backend]} | *memories in the database* | {small['memories']:,} | "
            f"{large['memories']:,} | |"
        )
    return lines


def _single(results: dict[str, Any]) -> list[str]:
    backends = [b for b in BACKENDS if _block(results, b, 1)]
    lines = [
        "| route, 1 connection | "
        + " | ".join(f"{BACKENDS[b]} req/s | p50 ms | p99 ms" for b in backends)
        + " |",
        "|---|" + "---:|---:|---:|" * len(backends),
    ]
    names = []
    for b in backends:
        for row in _block(results, b, 1)["rows"]:  # type: ignore[index]
            if row["connections"] == 1 and row["route"] not in names:
                names.append(row["route"])
    for name in names:
        cells = []
        for b in backends:
            row = _rows(_block(results, b, 1)).get(name)  # type: ignore[arg-type]
            cells.append(
                f"{_f(row['rps'])} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f}"
                if row
                else "- | - | -"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _search(results: dict[str, Any]) -> list[str]:
    found = [b for b in results["blocks"] if b.get("search")]
    if not found:
        return ["not measured (a run from before the search measurement)"]
    lines = [
        "| backend | memories | searches | count | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for block in found:
        search = block["search"]
        for kind, label in (("steady", "in a row"), ("after_write", "right after a create")):
            m = search[kind]
            lines.append(
                f"| {BACKENDS[block['backend']]} | {search['memories']:,} | {label} |"
                f" {m['count']} | {m['p50_ms']:.1f} | {m['p90_ms']:.1f} | {m['p99_ms']:.1f} |"
                f" {m['max_ms']:.1f} |"
            )
        if search["errors"]:
            lines.append(f"| ⚠ {search['errors']} non-200 answers | | | | | | | |")
    return lines


def _mem0(results: dict[str, Any]) -> list[str]:
    mem0 = results.get("mem0")
    if not mem0:
        return ["mem0 was not run (--no-mem0)."]
    if "error" in mem0:
        return ["mem0 could not run offline; its error:", "", "```", mem0["error"], "```"]
    lines = [
        f"mem0ai {mem0['versions']['mem0ai']} (qdrant-client {mem0['versions']['qdrant-client']},"
        f" sentence-transformers {mem0['versions']['sentence-transformers']}, torch"
        f" {mem0['versions']['torch']}, {mem0['torch_threads']} thread), embedder"
        f" {mem0['embedder']}; Qdrant local on-disk store; {mem0['stored']:,} memories stored;"
        f" start-up (model load) {mem0['load_s']:.1f} s. In-process calls, one at a time,"
        " pinned to one core.",
        "",
        "| mem0 call (in process) | calls/s | memories/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in mem0["results"]:
        lines.append(
            f"| {r['name']} | {_f(r['calls_per_s'])} | {_f(r['items_per_s'])} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
        )
    return lines


def _details(results: dict[str, Any]) -> list[str]:
    lines = []
    for block in results["blocks"]:
        lines += [
            "",
            f"#### {BACKENDS[block['backend']]}, {block['workers']} worker(s);"
            f" FastAPI floor {_f(block['floor_fastapi_rps'])} req/s",
            "",
            "| route | conns | req/s | × hello floor | × shape floor | p50 | p90 | p99 | max ms"
            " | errors | bytes/answer | server CPU | wrk CPU | postgres CPU | other CPU |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in block["floors"] + block["rows"]:
            ratio = (
                row["ratio"]
                if row["ratio"] is not None
                else row["rps"] / block["floor_fastapi_rps"]
            )
            note = f" ({row['note']})" if row.get("note") else ""
            size = row.get("bytes", 0) / row["requests"] if row["requests"] else 0
            lines.append(
                f"| {row['route']}{note} | {row['connections']} | {_f(row['rps'])} | {ratio:.2f} |"
                f" {_ratio(row.get('shape_ratio'))} |"
                f" {row['p50_ms']:.1f} | {row['p90_ms']:.1f} | {row['p99_ms']:.1f} |"
                f" {row['max_ms']:.0f} | {row['errors']} | {_f(size) if size else '-'} |"
                f" {row['server_cpu']:.2f} |"
                f" {row['wrk_cpu']:.2f} | {row['postgres_cpu']:.2f} | {row['other_cpu']:.2f} |"
            )
    return lines


def _noise(results: dict[str, Any]) -> list[str]:
    """How busy the rest of the machine was: ratios survive that, req/s do not."""
    rows = [r for b in results["blocks"] for r in b["rows"] + b["floors"]]
    if not rows:
        return []
    other = [r["other_cpu"] for r in rows]
    return [
        f"Noise: other work on the machine kept {sum(other) / len(other):.2f} of its"
        f" {results['machine'].get('cores', '?')} cores busy on average during the"
        f" measurements (at most {max(other):.2f}; the `other CPU` column): compare ratios,"
        " not req/s.",
        "",
    ]


def _deep_note(results: dict[str, Any]) -> list[str]:
    if not any(_deep_kind(r) == "cold" for r in _route_names(results)):
        return []  # a run from before bookmarks: every deep page walked the index
    big = results["sizes"]["big"]
    return [
        "Deep pages: mnemo remembers where the pages it served start and end (bookmarks:"
        " per server process, offsets of 200 or more, valid while the user's memories are"
        f" unchanged), so the {big:,}-memory user's deep pages are measured three ways."
        f" **Repeated**: offset {big - 25:,} again and again, from a bookmark after the"
        f" first request. **Walking in order**: every page from offset {big * 9 // 10:,} on"
        f" once ({big * 9 // 10:,}, {big * 9 // 10 + 25:,}, ... and the same shifted by 1 to"
        " 24 rows), as 100 walks in order taken in turns, so that a page is asked for well"
        " after the one before it in its walk was answered (32 connections) and is found"
        " from the bookmark that one left; the first page of each walk has none. With 2"
        " workers a page may go to the process that did not serve the page before it, and"
        " then walks the index."
        f" **Cold jumps**: random offsets from {big // 2:,} to {big - 25:,}, none a multiple"
        " of 25, none asked for twice or 25 rows after another, so no bookmark covers"
        " them and OFFSET walks the index each time: what a first visit to a deep page"
        " costs. The deep offset of a 1,000-memory user is a repeated page too (it is"
        " cheap either way).",
        "",
    ]


def render(results: dict[str, Any]) -> str:
    results = _measured(results)
    m = results["machine"]
    s = results["sizes"]
    date = results["started"][:10]
    quick = (
        " (quick smoke run: small data, short runs; not for comparison)" if results["quick"] else ""
    )
    out = [
        f"# mnemo benchmark, {date}{quick}",
        "",
        "Made by `.venv/bin/python bench/run.py`"
        + (" --quick" if results["quick"] else "")
        + f" in {results.get('elapsed_s', 0) / 60:.1f} minutes. What each figure means:"
        " `docs/performance.md`.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in m.items()],
        "",
        f"Data: {s['users']} users × {s['per_user']:,} memories, one user with {s['big']:,}"
        + (f" and one with {s['search_memories']:,} (search)" if s.get("search_memories") else "")
        + f" (growth point: {s['growth_total']:,} memories in all); realistic texts of 5-40"
        " words; every write's content new to the run (docs/performance.md)."
        f" Load: wrk, 1 thread, 32 connections, {s['duration']:g} s per route after a"
        f" {s['warmup']:g} s warm-up (reads); floors {s['floor_duration']:g} s, before and after"
        " each block. 1 worker: server on CPU 0, wrk on CPU 1; 2 workers: both share both"
        " cores; PostgreSQL unpinned. Rate limiting and the embedding queue's admission bounds"
        " off (bench/run.py UNLIMITED);"
        " SQLite synchronous=FULL and PostgreSQL synchronous_commit=on, so every 200 to a"
        " write follows a durable commit. p99 values at or over 20 ms are in bold; ⚠ marks"
        " a row with non-2xx answers or socket errors.",
        "",
        *_noise(results),
        *_deep_note(results),
        *(
            [
                "**Steps that failed** (the rest of the run went on):",
                "",
                *[f"- {f}" for f in results["failures"]],
                "",
            ]
            if results.get("failures")
            else []
        ),
        "## 1 worker, 32 connections: throughput as a ratio to the minimal FastAPI app",
        "",
        *_headline(results, 1),
        "",
        "## Targets (1 worker)",
        "",
        *_targets(results),
        "",
        "## 2 workers, 32 connections",
        "",
        *_headline(results, 2),
        "",
        "### Cost of growth: 1 → 2 workers (req/s)",
        "",
        *_scaling(results),
        "",
        "### Cost of growth: 1,000 → 1,000,000 memories in the database (1 worker)",
        "",
        *(_growth(results) or ["not measured (--no-growth)"]),
        "",
        "## Search, 1 connection, 1 worker",
        "",
        "`GET /v1/dev/user/memories/search?query=...&limit=10` for one user, over one"
        " keep-alive connection: searches in a row, then rounds of a fresh create followed"
        " at once by a search (only the search is timed).",
        "",
        *_search(results),
        "",
        "## The peer: mem0, offline, same memories",
        "",
        *_mem0(results),
        "",
        "mnemo at one connection (one HTTP round trip at a time, 1 worker), for comparison:",
        "",
        *_single(results),
        "",
        "## Data loading",
        "",
        "| what | seconds |",
        "|---|---:|",
        *[f"| {k} | {v:.1f} |" for k, v in results["imports"].items()],
        *[
            f"| `mnemo serve` start-up until /readyz answers: {k} | {v:.1f} |"
            for k, v in results.get("startup", {}).items()
        ],
        "",
        "## Every measurement",
        "",
        "CPU columns: cores busy on average during the measurement (server: its process"
        " tree; postgres: every postgres process; other: the rest of the machine, i.e. noise"
        " from other work).",
        *_details(results),
        "",
    ]
    return "\n".join(out)


def write(results: dict[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = results["started"][:10] + ("-quick" if results["quick"] else "")
    (out_dir / f"{stem}.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    path = out_dir / f"{stem}.md"
    path.write_text(render(results), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--out-dir", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    results = json.loads(Path(args.results).read_text(encoding="utf-8"))
    print(write(results, Path(args.out_dir)))


if __name__ == "__main__":
    sys.exit(main())
