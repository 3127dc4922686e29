"""Applies bench/whatif.py's patches in every Python process started with this folder on
PYTHONPATH and MNEMO_BENCH_WHATIF=name,name (a benchmark's what-if server and its
workers). Nothing happens without that variable."""

import os
import sys

_names = [n for n in os.environ.get("MNEMO_BENCH_WHATIF", "").split(",") if n]
if _names:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import whatif

    whatif.apply(_names)
