"""Peak resident memory of a process and its children, from /proc (Linux).

`VmHWM` is the kernel's high-water mark of a process's resident set since it started, so a
reading after a run is that run's peak, however short-lived the peak was.
"""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def peak_rss_mb(pid: int) -> float:
    """The summed VmHWM of `pid` and its descendants, in MiB (0 when /proc cannot tell)."""
    return sum(_high_water_kb(p) for p in [pid, *descendants(pid)]) / 1024


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`."""
    children: dict[int, list[int]] = {}
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], list(children.get(pid, []))
    while queue:
        child = queue.pop()
        found.append(child)
        queue.extend(children.get(child, []))
    return found


def _high_water_kb(pid: int) -> int:
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
