"""Peak resident memory of processes, from /proc (Linux).

`VmHWM` is the kernel's high-water mark of a process's resident set since it started (or
since it was last reset through `/proc/<pid>/clear_refs`), so a reading after a run is that
run's peak, however short-lived the peak was.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

PROC = Path("/proc")
RESET_PEAK = "5"
"""What `/proc/<pid>/clear_refs` takes to set VmHWM back to the current resident set."""


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


def command_line(pid: int) -> str:
    """The process's arguments joined by spaces ("" once it has gone)."""
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def reset_peak(pid: int) -> None:
    """Start the process's high-water mark afresh from its current resident set (gone processes are skipped)."""
    with contextlib.suppress(OSError):
        (PROC / str(pid) / "clear_refs").write_text(RESET_PEAK)


class PeakWatch:
    """The peak RSS of named processes, read repeatedly, so that a process replaced mid-run still counts.

    `processes` is called at every reading and names the processes of that moment (a devhost
    worker restarted by `functionTimeout` comes back with a new PID under the same name).
    """

    def __init__(self, processes: Callable[[], Mapping[str, int]]) -> None:
        self._processes = processes
        self._lock = threading.Lock()
        self._peaks_kb: dict[str, int] = {}

    def reset(self) -> None:
        """Forget the peaks so far, in this watch and in the kernel."""
        for pid in self._processes().values():
            reset_peak(pid)
        with self._lock:
            self._peaks_kb = {}

    def sample(self) -> None:
        readings = {name: _high_water_kb(pid) for name, pid in self._processes().items()}
        with self._lock:
            for name, kb in readings.items():
                self._peaks_kb[name] = max(kb, self._peaks_kb.get(name, 0))

    def peaks_mb(self) -> dict[str, float]:
        """Each process's peak since the last reset, in MiB, after one more reading."""
        self.sample()
        with self._lock:
            return {name: round(kb / 1024, 1) for name, kb in self._peaks_kb.items()}


def _high_water_kb(pid: int) -> int:
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
