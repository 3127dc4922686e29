"""Scores of the offline extractor on the labelled conversations (data/extraction/).

    .venv/bin/python bench/extraction.py [--split dev|test|all] [--show]

Prints fact recall and precision, the forbidden rate (tasks and events taken as
facts), action-item recall and due-date accuracy (match rule: mnemo.extract.evaluate),
the time per conversation, and the time of a 5,000-character transcript. `--show`
prints each conversation's misses.
"""

from __future__ import annotations

import argparse
import time

from mnemo.extract import extract_offline
from mnemo.extract.evaluate import Labelled, evaluate, long_transcript, matches, read_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--show", action="store_true", help="print each conversation's misses")
    args = parser.parse_args()
    data = read_set()
    splits = ["dev", "test"] if args.split == "all" else [args.split]
    for split in splits:
        items = [c for c in data if c.split == split]
        started = time.process_time()
        report = evaluate(items, lambda c: extract_offline(c.turns, c.started_at_us))
        elapsed = time.process_time() - started
        print(f"== {split} ==\n{report}")
        print(f"time                 {1000 * elapsed / max(len(items), 1):.2f} ms a conversation\n")
        if args.show:
            for item in items:
                _show(item)
    turns = long_transcript()
    started = time.process_time()
    extract_offline(turns, 0)
    elapsed = time.process_time() - started
    size = sum(len(turn.text) for turn in turns)
    print(f"a {size:,}-character transcript: {1000 * elapsed:.1f} ms of CPU")


def _show(item: Labelled) -> None:
    got = extract_offline(item.turns, item.started_at_us)
    hit = matches(item.facts, got.facts)
    missed = [f for i, f in enumerate(item.facts) if i not in {a for a, _ in hit}]
    extra = [f for j, f in enumerate(got.facts) if j not in {b for _, b in hit}]
    actions = [a.description for a in got.action_items]
    if missed or extra:
        print(f"{item.id}: missed {missed} extra {extra} actions {actions}")


if __name__ == "__main__":
    main()
