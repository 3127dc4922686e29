"""Summarise a py-spy raw (collapsed stacks) profile: where each thread spends its time.

    py-spy record -p PID -d 10 -r 200 -f raw --threads -o prof.raw    (while load runs)
    python bench/pyspy_summary.py prof.raw [--top 25] [--match mnemo/]

Prints, per thread group, the share of samples (a) by leaf function (self time) and
(b) inclusive, for the frames whose file matches --match (default: every frame).
Idle samples are included (py-spy records them when --idle is given; by default it
skips idle threads), so shares are of the samples taken, not of wall time.
"""

from __future__ import annotations

import argparse
import collections
import re


def load(path: str) -> list[tuple[str, list[str], int]]:
    rows = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            frames = stack.split(";")
            thread = re.sub(r"\(\d+\)", "", frames[0]).replace("thread", "").strip(" :")
            thread = re.sub(r"_\d+$", "", thread)
            rows.append((thread, frames[1:], int(count)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="")
    args = parser.parse_args()
    rows = load(args.raw)
    total = sum(c for _, _, c in rows)
    by_thread: dict[str, int] = collections.Counter()
    for thread, _, count in rows:
        by_thread[thread] += count
    print(f"{total} samples")
    for thread, count in by_thread.most_common():
        print(f"  {count / total:6.1%}  {thread}")
    order = sorted(by_thread.items(), key=lambda item: (item[0] != "MainThread", -item[1]))
    for thread, thread_total in order[:3]:
        selfs: dict[str, int] = collections.Counter()
        incl: dict[str, int] = collections.Counter()
        for t, frames, count in rows:
            if t != thread or not frames:
                continue
            selfs[frames[-1]] += count
            for frame in set(frames):
                if args.match in frame:
                    incl[frame] += count
        print(f"\n== {thread}: {thread_total} samples; self time")
        for frame, count in selfs.most_common(args.top):
            print(f"  {count / thread_total:6.1%}  {frame}")
        print(f"== {thread}: inclusive")
        for frame, count in incl.most_common(args.top):
            print(f"  {count / thread_total:6.1%}  {frame}")


if __name__ == "__main__":
    main()
