"""What devhost serves and refuses at startup: only the app it is given, a valid host.json, its own code only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devhost.process import ROOT
from tests.devhost.client import HUB_SETTING
from tests.devhost.conftest import SAMPLES_APP, TIMER_APP, StartHost

# the product, the other parts of the local twin, and the glue that composes them
FOREIGN_PACKAGES = ("shared", "api", "orchestrators", "activities", "sandbox", "twin", "bench", "function_app")


def run_devhost(storage: str, *arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m devhost` from the repository root, expecting it to stop by itself."""
    command = [sys.executable, "-m", "devhost", "--port", "0", "--storage", storage, *arguments]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, HUB_SETTING: "startupchecks", **(env or {})},
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_folder_without_function_app_is_refused(storage_connection_string: str, tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0"}))

    finished = run_devhost(storage_connection_string, "--app-dir", str(tmp_path))

    assert finished.returncode == 2
    assert f"devhost cannot start: {tmp_path.resolve()} has no function_app.py" in finished.stdout
    assert "listening on" not in finished.stdout


def test_a_host_json_without_version_is_refused(storage_connection_string: str, tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text("import azure.functions as func\n\napp = func.FunctionApp()\n")
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"routePrefix": "api"}}}))

    finished = run_devhost(storage_connection_string, "--app-dir", str(tmp_path))

    assert finished.returncode == 2
    assert "missing the required 'version' property" in finished.stdout


def test_an_unreadable_timer_schedule_is_refused(storage_connection_string: str) -> None:
    finished = run_devhost(storage_connection_string, "--app", TIMER_APP, env={"TICK_SCHEDULE": "0 */5 * * *"})

    assert finished.returncode == 2
    assert "devhost cannot start: the schedule of tick: '0 */5 * * *' has 5 fields, not six" in finished.stdout


def test_a_system_key_equal_to_the_function_key_is_refused(storage_connection_string: str) -> None:
    same = {"DEVHOST_FUNCTION_KEY": "one-key", "DEVHOST_SYSTEM_KEY": "one-key"}

    finished = run_devhost(storage_connection_string, "--app-dir", str(SAMPLES_APP), env=same)

    assert finished.returncode == 2
    assert "DEVHOST_SYSTEM_KEY must differ from the function key" in finished.stdout


@pytest.mark.parametrize("poll_ms", ["-1", "soon"])
def test_poll_ms_must_be_a_whole_number(storage_connection_string: str, poll_ms: str) -> None:
    finished = run_devhost(storage_connection_string, "--app-dir", str(SAMPLES_APP), "--poll-ms", poll_ms)

    assert finished.returncode == 2
    assert "--poll-ms" in finished.stderr


def test_the_host_imports_nothing_of_the_product() -> None:
    probe = (
        "import sys, devhost.__main__; "
        f"print([m for m in sys.modules if m.split('.')[0] in {FOREIGN_PACKAGES!r}])"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True)

    assert loaded.stdout.strip() == "[]"


def test_an_app_with_its_own_shared_package_runs(start_host: StartHost, hub_name: str) -> None:
    assert not (ROOT / "shared" / "greetings.py").exists(), "the app's shared package must differ from the product's"
    host = start_host(hub_name, app=SAMPLES_APP)

    started = requests.post(f"{host.url}/api/orchestrators/hello_cities", json=["Oslo"],
                            headers={"x-functions-key": host.key}, timeout=30)
    status_url = started.json()["statusQueryGetUri"]
    body = requests.get(status_url, timeout=30).json()
    deadline = time.monotonic() + 30
    while body["runtimeStatus"] in ("Pending", "Running"):
        assert time.monotonic() < deadline, body
        time.sleep(0.05)
        body = requests.get(status_url, timeout=30).json()

    assert body["runtimeStatus"] == "Completed", body
    assert body["output"] == ["Hello Oslo!"]
