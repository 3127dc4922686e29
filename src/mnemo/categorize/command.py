"""`mnemo categorize`: the offline classifier on the command line.

Registered by `mnemo.cli` as `app.command("categorize")(categorize)`. Uses the
shipped model only: no settings, no network, the same answers as the server gives
when no language model is configured.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from mnemo.categorize.evaluate import DataError, read_labelled, score
from mnemo.categorize.model import OfflineCategorizer

__all__ = ["categorize", "parse_memories"]


def parse_memories(lines: Iterable[str], source: str = "<stdin>") -> list[str]:
    """Memory texts from plain lines or JSON Lines with a `content` field.

    A line starting with `{` is read as JSON; any other non-blank line is the memory
    itself (surrounding white space stripped). Blank lines are skipped.
    """
    memories: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("{"):
            memories.append(line)
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{source}:{number}: invalid JSON ({error.msg})") from None
        content = record.get("content") if isinstance(record, dict) else None
        if not isinstance(content, str) or not content.strip():
            raise DataError(f"{source}:{number}: missing or empty 'content'")
        memories.append(content.strip())
    return memories


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def categorize(
    eval_file: Annotated[
        Path | None,
        typer.Option(
            "--eval",
            help="Score the model on FILE (JSON Lines with `content` and `category`) "
            "instead: print accuracy, per-class precision/recall/F1 and the confusion matrix.",
            metavar="FILE",
        ),
    ] = None,
) -> None:
    """Categorise memories read from stdin as `system` or `interesting` (offline model).

    Input: one memory per line, or JSON Lines with a `content` field. Output: JSON Lines
    `{"content", "category", "confidence"}`, in input order. Bad input exits with 2,
    a file that cannot be read with 3.
    """
    categorizer = OfflineCategorizer()
    if eval_file is not None:
        try:
            examples = read_labelled(eval_file)
        except OSError as error:
            _fail(f"cannot read {eval_file}: {error.strerror or error}", 3)
        except UnicodeDecodeError:
            _fail(f"{eval_file} is not UTF-8 text")
        except DataError as error:
            _fail(str(error))
        if not examples:
            _fail(f"{eval_file} holds no labelled memories")
        answers = categorizer.categorize_sync([content for content, _ in examples])
        report = score([label for _, label in examples], [a.category for a in answers])
        typer.echo(str(report))
        return

    try:
        memories = parse_memories(sys.stdin)
    except UnicodeDecodeError:
        _fail("stdin is not UTF-8 text")
    except DataError as error:
        _fail(str(error))
    out = sys.stdout
    for content, answer in zip(memories, categorizer.categorize_sync(memories), strict=True):
        record = {"content": content, "category": answer.category, "confidence": answer.confidence}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
