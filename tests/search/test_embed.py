"""The shipped embedder: shape, normalisation, determinism, meaning, storage format."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from mnemo.search.embed import (
    BATCH_TOKENS,
    DIM,
    MAX_TOKENS,
    Embedder,
    MiniLMEmbedder,
    default_embedder,
    from_blob,
    to_blob,
    vectors_from_blobs,
)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_is_an_embedder_with_normalised_vectors_of_its_dimension(embedder: MiniLMEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.dim == DIM == 384
    texts = [
        "User is vegetarian",
        "",
        "   ",
        "🙂",
        "x" * 5000,
        "User's sister Sarah lives in Portland",
    ]
    vectors = embedder.embed(texts)
    assert len(vectors) == len(texts)
    for vector in vectors:
        assert len(vector) == DIM
        assert all(isinstance(v, float) and math.isfinite(v) for v in vector)
        assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, abs_tol=1e-5)
    assert embedder.embed([]) == []


def test_same_text_same_vector_alone_or_in_any_batch(embedder: MiniLMEmbedder) -> None:
    texts = [f"User's friend number {i} likes board games" for i in range(40)]
    texts += ["User is vegetarian", "User plays tennis on weekends"]
    together = embedder.embed_array(texts)
    for i in (0, 17, 40, 41):
        alone = embedder.embed_array([texts[i]])[0]
        assert np.array_equal(alone, together[i])
    assert embedder.embed(["User is vegetarian"]) == embedder.embed(["User is vegetarian"])


def test_same_vectors_whatever_the_batch_mix(embedder: MiniLMEmbedder) -> None:
    """Texts of many lengths, in batches of every size: each equal to the text alone."""
    words = "user likes hiking with his sister in portland on sunny weekends every summer"
    words = words.split(" ")
    texts = [" ".join(words[: 1 + i % len(words)]) + f" {i}" for i in range(60)]
    together = embedder.embed_array(texts)
    reversed_ = embedder.embed_array(texts[::-1])[::-1]
    alone = np.array([embedder.embed_array([t])[0] for t in texts])
    assert np.array_equal(alone, together)
    assert np.array_equal(alone, reversed_)


def test_a_helper_thread_computes_every_other_batch_with_the_same_vectors(
    embedder: MiniLMEmbedder,
) -> None:
    """With a helper executor, batches of other lengths (and the pieces of a long group)
    are shared between the calling thread and the helper's, and every vector is the
    one computed without it, bit for bit; one batch alone stays on the calling thread."""
    words = [
        "user",
        "likes",
        "hiking",
        "with",
        "his",
        "sister",
        "in",
        "portland",
        "on",
        "sunny",
        "weekends",
    ]
    texts = [" ".join(words[: 1 + i % len(words)]) + f" {i}" for i in range(50)]
    texts += ["User is vegetarian"] * (BATCH_TOKENS // 5 + 3)  # one length, two batches

    class Counting(ThreadPoolExecutor):
        def __init__(self) -> None:
            super().__init__(1)
            self.threads: set[str] = set()

        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            def run() -> object:
                self.threads.add(threading.current_thread().name)
                return fn(*args, **kwargs)

            return super().submit(run)

    with Counting() as helper:
        shared = embedder.embed_array(texts, helper)
        assert np.array_equal(shared, embedder.embed_array(texts))
        assert len(helper.threads) == 1
        assert threading.current_thread().name not in helper.threads
    with Counting() as helper:
        assert np.array_equal(
            embedder.embed_array(["one text"], helper), embedder.embed_array(["one text"])
        )
        assert helper.threads == set()


def test_a_new_instance_gives_the_same_vectors(embedder: MiniLMEmbedder) -> None:
    other = MiniLMEmbedder()
    text = "User's daughter Aisha is on the swim team"
    assert np.array_equal(other.embed_array([text]), embedder.embed_array([text]))
    assert default_embedder() is default_embedder()


def test_matches_the_reference_model(embedder: MiniLMEmbedder) -> None:
    """sentence-transformers' own example for all-MiniLM-L6-v2 gives 0.6660 and 0.1046."""
    a, b, c = embedder.embed(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    assert cosine(a, b) == pytest.approx(0.6660, abs=0.01)
    assert cosine(a, c) == pytest.approx(0.1046, abs=0.01)


@pytest.mark.parametrize(
    ("query", "related", "unrelated"),
    [
        ("what should I cook for dinner?", "User is vegetarian", "User works at Initech"),
        (
            "where does his family live?",
            "User's sister Sarah lives in Portland",
            "User plays chess",
        ),
        (
            "how does he stay in shape?",
            "User swims laps three times a week",
            "User owns a typewriter",
        ),
        ("does she have pets?", "User has a golden retriever named Biscuit", "User is left-handed"),
        ("what does he do for a living?", "User works as a nurse", "User hates cilantro"),
    ],
)
def test_related_texts_are_closer_than_unrelated(
    embedder: MiniLMEmbedder, query: str, related: str, unrelated: str
) -> None:
    q, r, u = embedder.embed([query, related, unrelated])
    assert cosine(q, r) > cosine(q, u) + 0.05


def test_tokenizer_is_bert_uncased(embedder: MiniLMEmbedder) -> None:
    tok = embedder.tokenizer
    assert tok.words("Héllo, WORLD!  naïve") == ["hello", ",", "world", "!", "naive"]
    assert tok.words("東京") == ["東", "京"]
    assert tok.words("a\x00b\u200bc") == ["abc"]
    ids = tok.encode("User's sister")
    assert ids[0] == tok.cls and ids[-1] == tok.sep
    assert ids == [101, 5310, 1005, 1055, 2905, 102]
    assert tok.encode("x" * 500)[1] == tok.unk
    assert len(tok.encode("word " * 1000)) == MAX_TOKENS


def test_blob_round_trip() -> None:
    vector = [0.5, -0.25, 1.0, 0.0]
    blob = to_blob(vector)
    assert blob == np.asarray(vector, dtype="<f4").tobytes()
    assert len(blob) == 16
    assert from_blob(blob) == vector
    with pytest.raises(ValueError):
        from_blob(b"\x00\x01\x02")


def test_vectors_from_blobs(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.embed(["User is vegan", "User drives a Subaru"])
    matrix = vectors_from_blobs([to_blob(v) for v in vectors])
    assert matrix.shape == (2, DIM)
    assert np.allclose(matrix, np.asarray(vectors, dtype=np.float32))
    assert vectors_from_blobs([]).shape == (0, DIM)
    with pytest.raises(ValueError):
        vectors_from_blobs([b"\x00" * 8])
