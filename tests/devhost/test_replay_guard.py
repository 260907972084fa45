"""The determinism guard replays finished instances and reports orchestrators that do not replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from devhost.app_index import AppIndex
from devhost.process import DevhostProcess
from devhost.replay_guard import check_hub
from tests.devhost.client import run

# The SDK announces its typed decoding once per process when it replays here, in process.
pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")


def test_guard_accepts_deterministic_orchestrators_and_catches_clock_and_io(
    devhost: DevhostProcess, storage_connection_string: str, hub_name: str, durable_app_index: AppIndex,
    tmp_path: Path,
) -> None:
    note = tmp_path / "note.txt"
    note.write_text("hello")
    for orchestrator, payload in [
        ("fan_out", {"count": 3}),
        ("retry_flaky", {"dir": str(tmp_path), "failures": 1}),
        ("parent_with_children", None),
        ("parent_of_failing", "boom"),
        ("timers", {"seconds": 0}),
        ("counter", {"n": 0, "limit": 2}),
    ]:
        assert run(devhost, orchestrator, payload)["runtimeStatus"] in ("Completed", "Failed")
    clock = run(devhost, "clock_dependent")["instanceId"]
    reader = run(devhost, "reads_file", str(note))["instanceId"]

    found = {d.instance_id: d.problem for d in check_hub(storage_connection_string, hub_name, durable_app_index)}

    assert set(found) == {clock, reader}
    assert found[clock].startswith("action 0 was ")
    assert found[reader].startswith("the orchestrator performs I/O: open(")
