"""Start devhost as a child process and wait until it serves: for tests and the local twin.

    host = start_devhost(connection_string, app="tests.devhost.apps.durable_app.function_app",
                         env={"DEVHOST_TEST_HUB": "hub1"}, log_path=tmp / "devhost.log")
    requests.get(f"{host.url}/api/ping", headers={"x-functions-key": host.key})
    requests.get(f"{host.url}/runtime/webhooks/durabletask/instances", params={"code": host.system_key})
    host.stop()          # SIGTERM, then SIGKILL if it lingers
    host.kill()          # SIGKILL, to test recovery

`app` is a dotted module name, or a folder holding function_app.py (default: the repo root).
The child's output goes to `log_path` (a temporary file by default), never to a pipe that
could fill up. The child gets a random system key in DEVHOST_SYSTEM_KEY unless `env` or the
app's local.settings.json sets one; pass `env={"DEVHOST_SYSTEM_KEY": old.system_key}` to
restart a devhost with the keys it had, as an app on Azure keeps its keys.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devhost.app_index import resolve_app_dir
from devhost.auth import SYSTEM_KEY_SETTING, function_key, new_system_key
from devhost.host_config import load_local_settings

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:\d+)$", re.MULTILINE)


@dataclass
class DevhostProcess:
    """A running devhost this process started: `key` is its function key, `system_key` the Durable webhooks' key."""

    process: subprocess.Popen[bytes]
    url: str
    key: str
    system_key: str
    log_path: Path

    @property
    def pid(self) -> int:
        """The process id of devhost."""
        return self.process.pid

    def logs(self) -> str:
        """Everything devhost printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout_s: float = 15.0) -> int:
        """Stop with SIGTERM (SIGKILL after `timeout_s`); returns the exit code."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
        return self.process.wait()

    def kill(self) -> None:
        """Stop at once with SIGKILL, as a crash would."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_devhost(
    storage_connection_string: str,
    app: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    port: int = 0,
    log_path: Path | None = None,
    timeout_s: float = 30.0,
    lenient: bool = False,
    poll_ms: int = 0,
) -> DevhostProcess:
    """Start `python -m devhost` and return once it prints its `listening on` line.

    `lenient` and `poll_ms` are devhost's `--lenient` and `--poll-ms`.
    """
    child_env = {**os.environ, **(env or {})}
    command = [sys.executable, "-m", "devhost", "--port", str(port), "--storage", storage_connection_string,
               "--poll-ms", str(poll_ms)]
    if lenient:
        command.append("--lenient")
    if isinstance(app, Path):
        app_dir = resolve_app_dir(app, None)
        command += ["--app-dir", str(app_dir)]
    elif app is not None:
        command += ["--app", app]
        app_dir = resolve_app_dir(None, app)
    else:
        app_dir = ROOT
    settings = {**load_local_settings(app_dir), **child_env}
    key = function_key(settings)
    if lenient:
        system_key = key
    else:
        system_key = settings.get(SYSTEM_KEY_SETTING) or new_system_key()
        child_env[SYSTEM_KEY_SETTING] = system_key
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="devhost-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return DevhostProcess(process, _wait_until_listening(process, log_path, timeout_s), key, system_key, log_path)


def _wait_until_listening(process: subprocess.Popen[bytes], log_path: Path, timeout_s: float) -> str:
    """devhost's address once its log says it listens; a devhost that dies or stays silent is killed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = LISTENING.search(log_path.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    raise RuntimeError(f"devhost did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
