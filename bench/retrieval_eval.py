"""Retrieval figures: `python bench/retrieval_eval.py [--tune] [--latency] [--split test]`.

- default: recall@5, MRR and nDCG@10 of keyword-only (SQLite FTS5 + bm25), semantic-only
  (the shipped embedder, exact cosine) and hybrid (`rank.fuse`) on the test split,
  overall and by query kind (paraphrase vs rare keyword);
- `--tune`: the grid of fusion settings on the dev split (never the test split), best
  first, including reciprocal rank fusion for comparison;
- `--latency`: one user with 10,000 memories in a real SQLite file (content, FTS5
  index, float32 vector blobs): p50/p95 of a whole search (embed the query, FTS5
  bm25 top 50, read the user's vectors, exact cosine top 50, fuse) and of its parts,
  plus the embedder's load time and its cost per memory.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mnemo.search import rank
from mnemo.search.embed import MiniLMEmbedder, default_embedder, to_blob
from mnemo.search.evaluate import DEPTH, Dataset, Runs, load, run
from mnemo.search.keyword import fts5_query

CACHE = Path(__file__).resolve().parent / "results" / "retrieval-vectors.raw"


def vectors(dataset: Dataset, embedder: MiniLMEmbedder, use_cache: bool) -> dict[str, bytes]:
    """Blobs by id; with `use_cache`, texts already embedded are read from CACHE."""
    import numpy as np

    texts = dataset.texts()
    known: dict[str, bytes] = {}
    if use_cache and CACHE.exists():
        with np.load(CACHE, allow_pickle=False) as data:
            known = dict(
                zip(data["texts"].tolist(), (v.tobytes() for v in data["vectors"]), strict=True)
            )
    missing = sorted({t for t in texts.values() if t not in known})
    if missing:
        for text, vec in zip(missing, embedder.embed_array(missing), strict=True):
            known[text] = to_blob(vec)
        if use_cache:
            CACHE.parent.mkdir(exist_ok=True)
            with CACHE.open("wb") as handle:
                np.savez(
                    handle,
                    texts=np.array(list(known)),
                    vectors=np.array([np.frombuffer(b, "<f4") for b in known.values()]),
                )
    return {i: known[t] for i, t in texts.items()}


def table(runs: Runs, title: str) -> None:
    print(
        f"\n{title}: {len(runs.dataset.queries)} queries, "
        f"{sum(len(v) for v in runs.dataset.memories.values())} memories, "
        f"{len(runs.dataset.memories)} users"
    )
    print(f"{'mode':<10} {'queries':<11} {'recall@5':>9} {'MRR':>7} {'nDCG@10':>8}")
    labels = {None: "all", "semantic": "paraphrase", "mixed": "name+intent", "keyword": "rare-word"}
    for kind in labels:
        sub = Runs(runs.dataset, runs.keyword, runs.semantic)
        if kind:
            sub.dataset = type(runs.dataset)(
                runs.dataset.memories, [q for q in runs.dataset.queries if q.kind == kind]
            )
        for mode in ("keyword", "semantic", "hybrid"):
            m = sub.score(mode=mode)
            figures = f"{m['recall@5']:9.3f} {m['mrr']:7.3f} {m['ndcg@10']:8.3f}"
            print(f"{mode:<10} {labels[kind]:<11} {figures}")


def tune(runs: Runs) -> None:
    results: list[tuple[float, str, dict[str, float]]] = []
    grid: list[tuple[str, Callable[..., rank.Ranking]]] = []
    for wk, floor, ceiling in itertools.product(
        (0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5, 1.0),
        (0.0, 0.1, 0.2, 0.3),
        (0.6, 0.7, 0.8, 1.0),
    ):

        def f(k, s, n, wk=wk, floor=floor, ceiling=ceiling):  # type: ignore[no-untyped-def]
            return rank.fuse(
                k,
                s,
                n,
                semantic_weight=1.0,
                keyword_weight=wk,
                cosine_floor=floor,
                cosine_ceiling=ceiling,
            )

        grid.append((f"blend wk={wk} floor={floor} ceiling={ceiling}", f))
    for kk, wk in itertools.product((1, 5, 10, 20, 60), (0.5, 0.75, 1.0)):

        def g(k, s, n, kk=kk, wk=wk):  # type: ignore[no-untyped-def]
            return rank.rrf(k, s, n, k=kk, keyword_weight=wk)

        grid.append((f"rrf k={kk} wk={wk}", g))
    for name, fuser in grid:
        m = runs.score(fuser)
        results.append((m["recall@5"] + m["mrr"], name, m))
    results.sort(key=lambda r: -r[0])
    for mode in ("keyword", "semantic"):
        m = runs.score(mode=mode)
        print(f"{mode}-only: recall@5 {m['recall@5']:.3f} MRR {m['mrr']:.3f}")
    for _, name, m in results[:10]:
        print(f"{name:<40} recall@5 {m['recall@5']:.3f} MRR {m['mrr']:.3f} nDCG {m['ndcg@10']:.3f}")
    best_rrf = next(r for r in results if r[1].startswith("rrf"))
    print(
        f"best RRF: {best_rrf[1]} recall@5 {best_rrf[2]['recall@5']:.3f} "
        f"MRR {best_rrf[2]['mrr']:.3f}"
    )
    current = runs.score()
    print(f"shipped fuse(): recall@5 {current['recall@5']:.3f} MRR {current['mrr']:.3f}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def latency(n_memories: int = 10_000, n_queries: int = 100) -> None:
    t0 = time.perf_counter()
    embedder = MiniLMEmbedder()
    load_s = time.perf_counter() - t0
    data = load()
    texts = [t for rows in data.memories.values() for _, t in rows]
    rng = random.Random(7)
    extra = ["at home", "on weekends", "since 2019", "with friends", "most days", "lately"]
    contents = [
        f"{rng.choice(texts)} {rng.choice(extra)}" if i >= len(texts) else texts[i]
        for i in range(n_memories)
    ]
    t0 = time.perf_counter()
    vectors = embedder.embed_array(contents)
    per_memory_ms = (time.perf_counter() - t0) * 1000 / n_memories
    queries = [q.text for q in data.queries][:n_queries]

    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(str(Path(tmp) / "latency.db"))
        db.executescript(
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE memories (rowid INTEGER PRIMARY KEY, id TEXT UNIQUE, user_id TEXT,"
            " content TEXT, embedding BLOB);"
            "CREATE INDEX memories_user ON memories (user_id);"
            "CREATE VIRTUAL TABLE memories_fts USING fts5(content, content='memories',"
            " content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2');"
        )
        for user in ("big", "other"):  # a second user, so filtering by user matters
            db.executemany(
                "INSERT INTO memories (id, user_id, content, embedding) VALUES (?, ?, ?, ?)",
                [
                    (f"{user}-{i}", user, c, to_blob(v))
                    for i, (c, v) in enumerate(zip(contents, vectors, strict=True))
                ],
            )
        db.execute("INSERT INTO memories_fts (rowid, content) SELECT rowid, content FROM memories")
        db.commit()
        parts: dict[str, list[float]] = {
            k: [] for k in ("embed", "fts5", "read", "cosine", "fuse", "total")
        }
        for q in queries:
            t0 = time.perf_counter()
            qv = embedder.embed_array([q])[0]
            t1 = time.perf_counter()
            match = fts5_query(q)
            kw = (
                []
                if match is None
                else db.execute(
                    "SELECT m.id, bm25(memories_fts) FROM memories_fts JOIN memories m"
                    " ON m.rowid = memories_fts.rowid WHERE memories_fts MATCH ? AND m.user_id = ?"
                    " ORDER BY bm25(memories_fts) LIMIT ?",
                    (match, "big", DEPTH),
                ).fetchall()
            )
            t2 = time.perf_counter()
            rows = db.execute(
                "SELECT id, embedding FROM memories WHERE user_id = ?", ("big",)
            ).fetchall()
            t3 = time.perf_counter()
            sem = rank.semantic_ranking(qv, rows, DEPTH)
            t4 = time.perf_counter()
            rank.fuse(kw, sem, 10)
            t5 = time.perf_counter()
            for key, value in zip(
                parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0), strict=True
            ):
                value *= 1000
                parts[key].append(value)
        db.close()
    print(
        f"\nembedder load {load_s * 1000:.0f} ms; embedding {n_memories} memories: "
        f"{per_memory_ms:.2f} ms per memory"
    )
    print(f"search over {n_memories} memories of one user ({len(queries)} queries), ms:")
    for key, values in parts.items():
        print(
            f"  {key:<7} p50 {statistics.median(values):7.2f}   p95 {percentile(values, 0.95):7.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--tune", action="store_true", help="grid-search fusion on dev")
    parser.add_argument("--latency", action="store_true", help="search latency at 10k memories")
    parser.add_argument(
        "--cache",
        action="store_true",
        help=f"keep vectors between runs in {CACHE.relative_to(Path.cwd())}",
    )
    args = parser.parse_args(argv)
    embedder = default_embedder()
    if args.latency:
        latency()
        return 0
    data = load("dev" if args.tune else args.split)
    runs = run(data, embedder, vectors(data, embedder, args.cache))
    if args.tune:
        tune(runs)
    else:
        table(runs, f"{args.split} split")
    return 0


if __name__ == "__main__":
    sys.exit(main())
