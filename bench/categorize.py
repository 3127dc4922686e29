"""Benchmark the offline categoriser (a measurement, not a test).

    .venv/bin/python bench/categorize.py [--memories N] [--batches N]

Measures the shipped model's size, its load time (in this process, and the first
load in a fresh interpreter), the latency of one memory and of one batch of 25
through `OfflineCategorizer.categorize`, over many repetitions (p50/p99), and its
accuracy on the held-out set; prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mnemo.categorize.evaluate import read_labelled, score
from mnemo.categorize.model import MODEL_PATH, OfflineCategorizer, OfflineModel

DATA = Path(__file__).resolve().parents[1] / "data" / "categorize"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def cold_load_ms() -> float:
    """The first `load_model()` in a new interpreter (after the imports), in ms."""
    script = (
        "import time; from mnemo.categorize.model import load_model; "
        "t = time.perf_counter(); load_model(); print((time.perf_counter() - t) * 1000)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memories", type=int, default=20_000, help="single-memory calls")
    parser.add_argument("--batches", type=int, default=2_000, help="batch-of-25 calls")
    parser.add_argument("--loads", type=int, default=20, help="in-process model loads")
    args = parser.parse_args()

    examples = read_labelled(DATA / "test.jsonl")
    texts = [t for t, _ in examples]

    loads = []
    for _ in range(args.loads):
        start = time.perf_counter()
        model = OfflineModel.load(MODEL_PATH)
        loads.append((time.perf_counter() - start) * 1000)
    colds = [cold_load_ms() for _ in range(5)]

    categorizer = OfflineCategorizer(model)
    for text in texts:  # warm-up
        model.predict(text)

    async def one(text: str) -> float:
        start = time.perf_counter_ns()
        await categorizer.categorize([text])
        return (time.perf_counter_ns() - start) / 1000

    async def batch(start_at: int) -> float:
        chunk = [texts[(start_at + i) % len(texts)] for i in range(25)]
        start = time.perf_counter_ns()
        answers = await categorizer.categorize(chunk)
        elapsed = (time.perf_counter_ns() - start) / 1000
        assert len(answers) == 25
        return elapsed

    async def measure() -> tuple[list[float], list[float]]:
        singles = [await one(texts[i % len(texts)]) for i in range(args.memories)]
        batches = [await batch(i * 25) for i in range(args.batches)]
        return singles, batches

    singles, batches = asyncio.run(measure())
    report = score([c for _, c in examples], [model.predict(t).category for t in texts])
    raw = MODEL_PATH.read_bytes()

    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    )
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| held-out accuracy ({report.total} memories) | {report.accuracy:.2%} |")
    for label in ("system", "interesting"):
        s = report.per_class(label)
        print(f"| {label}: precision / recall | {s.precision:.2%} / {s.recall:.2%} |")
    packed = len(gzip.compress(raw))
    print(f"| model file `{MODEL_PATH.name}` | {len(raw):,} bytes ({packed:,} gzipped) |")
    words, weights = len(model.word_scores), len(model.weights)
    print(f"| words with a score / sparse weights | {words:,} / {weights:,} |")
    print(
        f"| load, in process (p50 / max of {args.loads}) | "
        f"{statistics.median(loads):.1f} ms / {max(loads):.1f} ms |"
    )
    print(
        f"| first load in a fresh interpreter (p50 / max of 5) | "
        f"{statistics.median(colds):.1f} ms / {max(colds):.1f} ms |"
    )
    print(
        f"| one memory (p50 / p99 of {args.memories:,}) | "
        f"{percentile(singles, 50):.1f} µs / {percentile(singles, 99):.1f} µs |"
    )
    print(
        f"| batch of 25 (p50 / p99 of {args.batches:,}) | "
        f"{percentile(batches, 50):.1f} µs / {percentile(batches, 99):.1f} µs |"
    )
    print(f"| per memory within a batch of 25 (p50) | {percentile(batches, 50) / 25:.1f} µs |")


if __name__ == "__main__":
    main()
