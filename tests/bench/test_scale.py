"""The scale scenario measured on a real twin at a small size, and the peak-RSS watch on a real process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from azure.data.tables import TableServiceClient

from bench.memory import PeakWatch
from bench.scale import ScaleSize, fresh_twin

RECORDS = 3_000
ALLOCATE_MB = 200
_ALLOCATOR = f"""
import sys
block = bytearray({ALLOCATE_MB} * 1024 * 1024)
del block
print("freed", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def allocator() -> Iterator[subprocess.Popen[str]]:
    """A process that held ALLOCATE_MB once and holds far less now."""
    child = subprocess.Popen([sys.executable, "-c", _ALLOCATOR], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "freed"
    yield child
    child.kill()
    child.wait()


def test_the_watch_keeps_a_past_peak_and_a_reset_starts_it_from_now(allocator: subprocess.Popen[str]):
    watch = PeakWatch(lambda: {"allocator": allocator.pid})
    assert watch.peaks_mb()["allocator"] >= ALLOCATE_MB
    watch.reset()
    assert watch.peaks_mb()["allocator"] < ALLOCATE_MB / 2


def test_a_small_scale_run_reports_its_own_instances_histories_and_every_process():
    with fresh_twin() as (twin, azurite_pid):
        figures = ScaleSize(twin, azurite_pid).measure(RECORDS)
        history = TableServiceClient.from_connection_string(twin.storage).get_table_client(f"{twin.hub}History")
        final = [int(row["EventCount"]) for row in history.query_entities(
            "RowKey eq @row", parameters={"row": "checkpoint"}, select=["EventCount"])]
    assert figures["records"] == RECORDS and figures["rps"] > 0
    assert figures["source_pages"] >= 1 and figures["history_samples"] >= 1
    incremental = figures["incremental"]
    assert incremental["changed"] == incremental["written"] == RECORDS // 100
    assert 2 <= figures["instances"] <= figures["executions"]
    assert 2 <= incremental["instances"] <= figures["instances"], "the incremental run counts only its own instances"
    assert max(figures["largest_history"], incremental["largest_history"]) >= max(final) > 0
    assert figures["incremental_fraction"] == pytest.approx(incremental["seconds"] / figures["seconds"], abs=1e-3)
    peaks = figures["peak_rss_mb"]
    assert {"devhost", "devhost worker 1", "sandbox sales", "sandbox cds", "azurite"} <= set(peaks)
    assert all(mb > 10 for mb in peaks.values()), peaks
