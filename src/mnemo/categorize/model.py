"""The offline classifier: a linear model over text features, in pure Python.

The learned weights live in `model.json` beside this module (written by
`python -m mnemo.categorize.train`). The score of a memory is

    logit = bias
          + (sum of the weights of its sparse features) / sqrt(number of features)
          + mean of the word scores of its content words that have one

and `P(interesting) = sigmoid(logit / temperature)` (the temperature, fitted at
training time, only calibrates the confidence; the label is the sign of the logit).
A word's score is the dot product of its GloVe vector with the learned direction,
computed once at training time; so the model knows ~100k words it never saw in the
labelled data, without shipping vectors or importing numpy. Loading takes tens of
milliseconds; answering a memory takes tens of microseconds. Same text in, same
answer out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from mnemo.categorize.base import Categorization
from mnemo.categorize.features import content_words, sparse_features, tokens

__all__ = ["MODEL_PATH", "FORMAT", "OfflineCategorizer", "OfflineModel", "load_model"]

MODEL_PATH = Path(__file__).with_name("model.json")
FORMAT = "mnemo-categorizer/1"


class OfflineModel:
    """Learned weights plus the arithmetic to apply them to a memory."""

    def __init__(
        self,
        bias: float,
        weights: dict[str, float],
        word_scores: dict[str, float],
        meta: dict[str, Any] | None = None,
        temperature: float = 1.0,
    ) -> None:
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        self.bias = bias
        self.temperature = temperature
        self.weights = weights
        self.word_scores = word_scores
        self.meta = meta or {}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OfflineModel:
        """Build from the JSON document `train` writes; ValueError if it is not one."""
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: format={data.get('format')!r}")
        scale = float(data["word_scores"]["scale"])
        word_scores: dict[str, float] = {}
        for level, words in data["word_scores"]["levels"].items():
            value = int(level) * scale
            for word in words.split():
                word_scores[word] = value
        weights = {name: float(w) for name, w in data["weights"].items()}
        return cls(
            float(data["bias"]),
            weights,
            word_scores,
            data.get("meta"),
            float(data.get("temperature", 1.0)),
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> OfflineModel:
        with path.open(encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))

    def logit(self, text: str) -> float:
        """Log-odds that `text` is `interesting` (negative: `system`)."""
        toks = tokens(text)
        feats = sparse_features(toks)
        total = self.bias
        if feats:
            weights = self.weights
            total += math.fsum(weights.get(f, 0.0) for f in feats) / math.sqrt(len(feats))
        scores = [s for s in map(self.word_scores.get, content_words(toks)) if s is not None]
        if scores:
            total += math.fsum(scores) / len(scores)
        return total

    def predict(self, text: str) -> Categorization:
        """The more likely category and its probability (0.5 .. 1, 4 decimals)."""
        z = self.logit(text)
        confidence = 1.0 / (1.0 + math.exp(-min(abs(z) / self.temperature, 700.0)))
        return Categorization("interesting" if z > 0 else "system", round(confidence, 4))


@lru_cache(maxsize=1)
def load_model() -> OfflineModel:
    """The shipped model, read once per process."""
    return OfflineModel.load(MODEL_PATH)


class OfflineCategorizer:
    """`Categorizer` backed by the shipped model; never fails, never blocks on I/O."""

    def __init__(self, model: OfflineModel | None = None) -> None:
        self.model = model or load_model()

    def categorize_sync(self, contents: Sequence[str]) -> list[Categorization]:
        """One answer per content, in order (a plain function, for the CLI and tests)."""
        return [self.model.predict(text) for text in contents]

    async def categorize(self, contents: Sequence[str]) -> list[Categorization]:
        return self.categorize_sync(contents)
