"""Fill a database from an import file fast: mnemo's own import code, with synthetic
search embeddings instead of the model's.

    .venv/bin/python bench/fill.py --database-url URL FILE.jsonl

`mnemo import` computes each memory's embedding with the MiniLM model (milliseconds
per memory: hours for the benchmark's 1,000,000). The benchmark measures list, get,
create, patch and delete, not search quality, so this runs the same import path
(`mnemo.transfer.import_lines` on the store `mnemo serve` would open) and stores a
deterministic random unit vector per memory: the indexes (FTS5, the vector table)
have their real size and shape, and no model runs. Falls back to importing without
embeddings when the installed mnemo has none.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import inspect
import sys
import time
from collections.abc import Sequence
from typing import Any


def synthetic_embedder() -> Any:
    import numpy as np

    try:
        from mnemo.search.embed import DIM
    except ImportError:
        DIM = 384  # noqa: N806

    async def embed(contents: Sequence[str]) -> list[bytes]:
        seed = int.from_bytes(hashlib.sha256("\n".join(contents).encode()).digest()[:8], "big")
        vectors = np.random.default_rng(seed).standard_normal((len(contents), DIM))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return [row.astype("<f4").tobytes() for row in vectors]

    return embed


async def fill(url: str, path: str) -> str:
    from mnemo.config import Settings
    from mnemo.store import store_for
    from mnemo.transfer import import_lines

    store = store_for(Settings(database_url=url))
    await store.open()
    try:
        with open(path, encoding="utf-8") as stream:  # noqa: ASYNC230 - one task
            if "embed" in inspect.signature(import_lines).parameters:
                counts = await import_lines(store, stream, synthetic_embedder())
            else:
                counts = await import_lines(store, stream)
    finally:
        await store.close()
    return counts.summary()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("file")
    args = parser.parse_args()
    started = time.perf_counter()
    summary = asyncio.run(fill(args.database_url, args.file))
    print(f"{summary} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
