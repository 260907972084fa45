"""What the benchmarks tell the person running them while they run: progress lines on standard error."""

from __future__ import annotations

import sys


def say(text: str = "") -> None:
    print(text, file=sys.stderr, flush=True)
