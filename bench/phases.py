"""Where a project run's time went: each activity's span, read from the lines devhost logs.

devhost logs `[time] Executing 'Functions.name' ...` and `Executed 'Functions.name' ...` as
the Functions host does; the span of an activity is from its first start to its last end.
"""

from __future__ import annotations

import re
from datetime import datetime

STEPS = ("begin_run", "extract_chunk", "resolve_bucket", "load_page", "finish_run")
_LINE = re.compile(r"^\[(\S+?)Z?\] Execut(?:ing|ed) 'Functions\.(\w+)'", re.MULTILINE)


def spans(log: str) -> dict[str, float]:
    """Seconds from the first start to the last end of each step in `log` (steps absent are left out)."""
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    for stamp, name in _LINE.findall(log):
        if name in STEPS:
            moment = datetime.fromisoformat(stamp)
            first.setdefault(name, moment)
            last[name] = moment
    return {name: round((last[name] - first[name]).total_seconds(), 3) for name in STEPS if name in first}
