"""Retrieval figures: `python bench/retrieval_eval.py [--fit] [--split test] [--database-url URL]`.

- default: recall@1/5/10/50, MRR and nDCG@10 of every mode (`evaluate.MODES`: BM25
  alone, dense alone, plain RRF, the previous `rank.fuse`, the shipped
  `relevance.rank`) on the fact-shaped set (`data/retrieval`) and the conversation-turn
  set (`data/retrieval_conversations`), overall and by query kind; the test split by
  default;
- `--fit`: fit `relevance.WEIGHTS` and `relevance.BIAS` on the dev splits of both sets
  (never the test splits; needs the `train` extra, for scipy) and print them:
  a listwise model (softmax over each query's candidates, the likelihood of its
  relevant memories; L2 strength chosen by 2-fold cross-validation over the dev users),
  then the calibration of its score to P(relevant): a logistic map of the score and
  its softmax share among the query's candidates, fitted on every candidate of the dev
  queries and of the same queries asked of another user (none relevant);
- `--database-url`: the store whose keyword search is measured: a new SQLite file by
  default, or an empty PostgreSQL database, e.g.
  `postgresql://postgres@127.0.0.1:5432/test?search_path=eval` (an empty schema).

Search latency is measured by `bench/search_latency.py`, through the store.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mnemo.search import relevance
from mnemo.search.embed import MiniLMEmbedder, default_embedder, to_blob
from mnemo.search.evaluate import CONVERSATIONS_DIR, DATA_DIR, MODES, Dataset, Runs, load, run

CACHE = Path(__file__).resolve().parent / "results" / "retrieval-vectors.raw"
SETS = {"facts": DATA_DIR, "turns": CONVERSATIONS_DIR}
L2 = (0.0, 1e-4, 3e-4, 1e-3, 3e-3)
COLUMNS = ("recall@1", "recall@5", "recall@10", "recall@50", "mrr", "ndcg@10")


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
    print(f"{'mode':<9} {'queries':<16}" + "".join(f"{c:>10}" for c in COLUMNS))
    kinds = sorted({q.kind for q in runs.dataset.queries})
    for kind in (None, *kinds):
        queries = [q for q in runs.dataset.queries if kind is None or q.kind == kind]
        sub = runs.only(queries)
        for mode in MODES:
            m = sub.score(mode=mode)
            label = f"{kind or 'all'} {len(queries)}"
            print(f"{mode:<9} {label:<16}" + "".join(f"{m[c]:10.3f}" for c in COLUMNS))


def _groups(runs: Runs, users: set[str] | None = None, foreign: bool = False) -> list[Any]:
    """Per query (with `foreign`, per query asked of another user instead): its
    candidates' features (a matrix) and which are relevant."""
    import numpy as np

    out = []
    for q in runs.dataset.queries:
        if users is not None and q.user not in users:
            continue
        if foreign:
            q = runs.dataset.foreign(q)
        found = relevance.features(
            q.text,
            runs.content_keyword[q.id],
            runs.semantic[q.id],
            runs.contents,
            keyword_half=runs.keyword_half,
        )
        ids = sorted(found)
        out.append((np.array([found[i] for i in ids]), np.array([i in q.relevant for i in ids])))
    return out


def _listwise(sets: list[list[tuple[Any, Any]]], l2: float) -> Any:
    """Weights maximising the softmax likelihood of each query's relevant candidates;
    each evaluation set weighs the same."""
    import numpy as np
    from scipy.optimize import minimize

    groups = [(x, y, 1.0 / len(g)) for g in sets for x, y in g if y.any()]

    def loss(w: Any) -> tuple[float, Any]:
        total, grad = l2 * float(w @ w), 2 * l2 * w
        for x, y, weight in groups:
            z = x @ w
            e = np.exp(z - z.max())
            total -= weight * (np.log(e[y].sum()) - np.log(e.sum()))
            grad += weight * (x.T @ (e / e.sum()) - x[y].T @ (e[y] / e[y].sum()))
        return total, grad

    start = np.zeros(sets[0][0][0].shape[1])
    return minimize(loss, start, jac=True, method="L-BFGS-B").x


def _held_out(sets: list[list[tuple[Any, Any]]], w: Any) -> float:
    """Mean recall@1 + recall@5 + MRR of ranking by `w` (for choosing L2)."""
    import numpy as np

    total = count = 0.0
    for g in sets:
        for x, y in g:
            ranked = y[np.argsort(-(x @ w), kind="stable")]
            hits = np.nonzero(ranked[:10])[0]
            total += ranked[:1].sum() / max(y.sum(), 1) + ranked[:5].sum() / max(y.sum(), 1)
            total += 1 / (hits[0] + 1) if len(hits) else 0
            count += 1
    return total / count


def fit(all_runs: dict[str, Runs]) -> None:
    import numpy as np
    from scipy.optimize import minimize

    users = {name: sorted(runs.dataset.memories) for name, runs in all_runs.items()}
    folds = [{name: set(u[parity::2]) for name, u in users.items()} for parity in (0, 1)]
    scores = {}
    for l2 in L2:
        held = 0.0
        for i, fold in enumerate(folds):
            other = folds[1 - i]
            w = _listwise([_groups(r, fold[n]) for n, r in all_runs.items()], l2)
            held += _held_out([_groups(r, other[n]) for n, r in all_runs.items()], w)
        scores[l2] = held / 2
        print(f"L2 {l2:g}: held-out recall@1 + recall@5 + MRR {scores[l2]:.4f}")
    l2 = max(L2, key=lambda v: (scores[v], -v))
    sets = [_groups(r) for r in all_runs.values()]
    w = _listwise(sets, l2)
    print(f"chosen L2 {l2:g}")
    print(f"WEIGHTS = {tuple(round(float(v), 4) for v in w)}")
    # Calibration: the real queries and as many asked of another user (no relevant
    # candidate), so that a score also says whether anything relevant is there at all.
    rows, labels = [], []
    for group in [*sets, *(_groups(r, foreign=True) for r in all_runs.values())]:
        for x, y in group:
            z = x @ w
            top = z.max()
            lse = top + np.log(np.exp(z - top).sum())
            rows += [np.column_stack([z, z - lse])]
            labels += [y]
    x_all, y_all = np.vstack(rows), np.concatenate(labels).astype(float)

    def loss(abc: Any) -> tuple[float, Any]:
        t = x_all @ abc[:2] + abc[2]
        p = 1 / (1 + np.exp(-t))
        g = p - y_all
        value = float(np.sum(np.logaddexp(0, t) - y_all * t))
        return value, np.array([g @ x_all[:, 0], g @ x_all[:, 1], g.sum()])

    abc = minimize(loss, np.zeros(3), jac=True, method="L-BFGS-B").x
    assert abc[0] + abc[1] >= 0, abc  # monotone in z within a query
    print(f"CALIBRATION = {tuple(round(float(v), 4) for v in abc)}")
    p = 1 / (1 + np.exp(-(x_all @ abc[:2] + abc[2])))
    print("calibration on dev, real and foreign queries (predicted / observed share relevant):")
    for low, high in ((0, 0.05), (0.05, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)):
        inside = (p >= low) & (p < high)
        if inside.any():
            print(
                f"  [{low:.2f}, {min(high, 1):.2f}): {int(inside.sum()):6d} candidates, "
                f"predicted {p[inside].mean():.3f}, observed {y_all[inside].mean():.3f}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--fit", action="store_true", help="fit the ranking on the dev splits")
    parser.add_argument("--set", choices=tuple(SETS), help="only this evaluation set")
    parser.add_argument("--database-url", help="the store whose keyword search is measured")
    parser.add_argument(
        "--cache",
        action="store_true",
        help=f"keep vectors between runs in {CACHE.relative_to(Path.cwd())}",
    )
    args = parser.parse_args(argv)
    embedder = default_embedder()
    split = "dev" if args.fit else args.split
    all_runs = {}
    for name, directory in SETS.items():
        if args.set in (None, name):
            data = load(split, directory)
            vecs = vectors(data, embedder, args.cache)
            all_runs[name] = run(data, embedder, vecs, args.database_url)
    if args.fit:
        fit(all_runs)
    else:
        for name, runs in all_runs.items():
            table(runs, f"{name}, {split} split")
    return 0


if __name__ == "__main__":
    sys.exit(main())
