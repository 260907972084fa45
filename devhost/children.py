"""Waiting for a server started as a child process to say it listens (devhost, the sandbox systems)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path


def wait_until_listening(
    process: subprocess.Popen[bytes], log_path: Path, pattern: re.Pattern[str], timeout_s: float, what: str
) -> re.Match[str]:
    """The match of `pattern` in the child's log once it appears; a child that dies or stays silent is killed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = pattern.search(log_path.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    raise RuntimeError(f"{what} did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
