"""Retrieval figures: `python bench/retrieval_eval.py [--tune] [--split test] [--database-url URL]`.

- default: recall@5, MRR and nDCG@10 of keyword-only (the store's full-text search),
  semantic-only (the shipped embedder, exact cosine) and hybrid (`rank.fuse`) on the
  test split, overall and by query kind (paraphrase, name+intent, rare keyword);
- `--tune`: the grid of fusion settings on the dev split (never the test split), best
  first, including reciprocal rank fusion for comparison;
- `--database-url`: the store whose keyword search is measured: a new SQLite file by
  default, or an empty PostgreSQL database, e.g.
  `postgresql://postgres@127.0.0.1:5432/test?search_path=eval` (an empty schema).

Search latency is measured by `bench/search_latency.py`, through the store.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable
from pathlib import Path

from mnemo.search import rank
from mnemo.search.embed import MiniLMEmbedder, default_embedder, to_blob
from mnemo.search.evaluate import Dataset, Runs, load, run

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
        sub = Runs(runs.dataset, runs.keyword, runs.semantic, runs.keyword_half)
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
    for wk, floor, ceiling, times in itertools.product(
        (0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5, 1.0),
        (0.0, 0.1, 0.2, 0.3),
        (0.6, 0.7, 0.8, 1.0),
        (0.25, 0.5, 1.0, 1.5, 2.0, 4.0),  # times the store's keyword_half
    ):
        half = runs.keyword_half * times

        def f(k, s, n, wk=wk, floor=floor, ceiling=ceiling, half=half):  # type: ignore[no-untyped-def]
            return rank.fuse(
                k,
                s,
                n,
                keyword_half=half,
                semantic_weight=1.0,
                keyword_weight=wk,
                cosine_floor=floor,
                cosine_ceiling=ceiling,
            )

        grid.append((f"blend wk={wk} floor={floor} ceiling={ceiling} half={half:g}", f))
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
    # The weights and cosine range are chosen on SQLite and shared; each store's half
    # is then the best for its own keyword scores with those weights.
    print("with the shipped weights, by keyword_half (times the store's):")
    for times in (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0):
        half = runs.keyword_half * times

        def h(k, s, n, half=half):  # type: ignore[no-untyped-def]
            return rank.fuse(k, s, n, keyword_half=half)

        m = runs.score(h)
        print(f"  half={half:<8g} recall@5 {m['recall@5']:.3f} MRR {m['mrr']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--tune", action="store_true", help="grid-search fusion on dev")
    parser.add_argument("--database-url", help="the store whose keyword search is measured")
    parser.add_argument(
        "--cache",
        action="store_true",
        help=f"keep vectors between runs in {CACHE.relative_to(Path.cwd())}",
    )
    args = parser.parse_args(argv)
    embedder = default_embedder()
    data = load("dev" if args.tune else args.split)
    runs = run(data, embedder, vectors(data, embedder, args.cache), args.database_url)
    if args.tune:
        tune(runs)
    else:
        table(runs, f"{args.split} split")
    return 0


if __name__ == "__main__":
    sys.exit(main())
