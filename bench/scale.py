"""The project at N and at SCALE_RECORDS (issue 15), on strict devhost, measured from outside.

For each size the bench starts everything afresh (Azurite, the sandbox systems, devhost and
its workers), seeds the Sales source, sets every process's peak-RSS mark back to where it
stands, and then times a full run of the workload (bench/workload.py) into an empty CDS, changes
one source record in a hundred and times an incremental run. While a run goes, a sampler
reads every second the checkpoint rows of the task hub's History table (bench/hub_history.py)
and the peak RSS of each process by name (bench/memory.py). Nothing of the product is asked:
the figures come from the HTTP API, the sandboxes' `/_sandbox` endpoints, the task hub's
tables and /proc, so the scenario measures whatever design the product has.

A 10,000,000-record figure is a projection (`project_to`), never a measurement: time as the
SCALE run's seconds per source page (a page is one read request, up to 5,000 records) times
the pages of 10M, which holds as long as nothing grows with the run (the history and memory
figures say whether it does), and beside it the time if the per-page cost kept growing on
its line through both sizes; the largest history on that line, never below SCALE's. Peak
RSS is not projected: it levels off where caches fill, which a line through two points
cannot know.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from bench.console import say
from bench.hub_history import HistoryFigures, HubHistory
from bench.memory import PeakWatch, command_line, descendants
from bench.project_runs import ProjectBench, RunFigures, expect
from bench.reference_clients import bulk_upsert
from bench.workload import ENTITY_SET, SOURCE_KNOBS, TARGET_KNOBS, changed_accounts, sales_accounts
from devhost import azurite
from twin.local_twin import LocalTwin

SAMPLE_S = 1.0
SEED_CHUNK = 10_000
PROJECTED_RECORDS = 10_000_000
SOURCE_READS = f"GET {ENTITY_SET}"
"""The sandbox's stats route of a page read from the source: one request per page read."""
WORKER_MARK = "spawn_main"
"""What the command line of a devhost worker process (multiprocessing's spawn) carries."""
PROJECTION_METHOD = (
    "projection, not a measurement: the SCALE run's seconds per source page read times the pages of 10M; "
    "largest history on the line through both sizes, never below SCALE's; peak RSS not projected"
)



class Sampler:
    """Calls `sample` every SAMPLE_S seconds on a thread until stopped; re-raises what it failed with."""

    def __init__(self, sample: Callable[[], None]) -> None:
        self._sample = sample
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._error is not None and exc[0] is None:
            raise RuntimeError("sampling the run failed") from self._error

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            try:
                self._sample()
            except Exception as exc:  # kept, and raised on the bench's own thread when it stops
                self._error = exc
                return


class ScaleSize:
    """One size on a twin of its own: seed, full run, 1% changed, incremental run."""

    def __init__(self, twin: LocalTwin, azurite_pid: int) -> None:
        self.twin = twin
        self.azurite_pid = azurite_pid
        self.project = ProjectBench(twin)
        self.hub = HubHistory(twin.storage, twin.hub)
        self.peaks = PeakWatch(self.processes)

    def processes(self) -> dict[str, int]:
        """Every process of the twin by name: devhost, its workers, each sandbox system, Azurite."""
        named = {"devhost": self.twin.host.pid}
        workers = sorted(pid for pid in descendants(self.twin.host.pid) if WORKER_MARK in command_line(pid))
        named.update({f"devhost worker {slot}": pid for slot, pid in enumerate(workers, start=1)})
        named.update({f"sandbox {name}": system.pid for name, system in self.twin.systems.items()})
        named["azurite"] = self.azurite_pid
        return named

    def measure(self, records: int) -> dict[str, Any]:
        self.project.create()
        say(f"scale: seeding {records:,} source records ...")
        for start in range(0, records, SEED_CHUNK):
            self.project.source.seed(ENTITY_SET, sales_accounts(min(SEED_CHUNK, records - start), start))
        self.peaks.reset()
        say(f"scale: full run of {records:,} records (strict devhost) ...")
        full, history, pages = self.watched("full")
        expect(full.status == "Succeeded" and full.written == records, f"the full run of {records:,} wrote {full}")
        target = self.project.target_count()
        expect(target == records, f"the target holds {target:,} of {records:,} records after the full run")
        changes = changed_accounts(records)
        bulk_upsert(self.project.source.url, changes, 1000, 4)
        say(f"scale: incremental run, {len(changes):,} of {records:,} changed ...")
        incremental, incremental_history, _ = self.watched("incremental")
        expect(incremental.status == "Succeeded" and incremental.written == len(changes),
                f"the incremental run at {records:,} wrote {incremental}")
        return {
            "records": records,
            "seconds": round(full.seconds, 3),
            "rps": round(full.rps),
            "source_pages": pages,
            "instances": history.instances,
            "executions": history.executions,
            "largest_history": history.largest_history,
            "largest_history_instance": history.largest_instance,
            "history_samples": history.samples,
            "phases": full.phases,
            "incremental": {"changed": len(changes), "seconds": round(incremental.seconds, 3),
                            "written": incremental.written, "instances": incremental_history.instances,
                            "largest_history": incremental_history.largest_history},
            "incremental_fraction": round(incremental.seconds / full.seconds, 4),
            "peak_rss_mb": self.peaks.peaks_mb(),
        }

    def watched(self, mode: str) -> tuple[RunFigures, HistoryFigures, int]:
        """One run with the sampler going; the run, its histories and the source pages it read."""
        reads_before = self._source_reads()
        self.hub.begin()

        def sample() -> None:
            self.hub.sample()
            self.peaks.sample()

        with Sampler(sample):
            run = self.project.run(mode)
        return run, self.hub.end(), self._source_reads() - reads_before

    def _source_reads(self) -> int:
        return int(self.project.source.stats()["by_route"].get(SOURCE_READS, {}).get("requests", 0))


@contextmanager
def fresh_twin(settings: dict[str, str] | None = None) -> Iterator[tuple[LocalTwin, int]]:
    """Azurite, the sandbox systems and strict devhost (with these app `settings`), all started now; with Azurite's
    PID."""
    with ExitStack() as stack:
        server = azurite.start()
        stack.callback(server.stop)
        knobs = {"cds": TARGET_KNOBS, "sales": SOURCE_KNOBS}
        twin = stack.enter_context(LocalTwin.start(records=0, dataset=False, storage=server.connection_string,
                                                   knobs=knobs, settings=settings))
        yield twin, server.pid


def measure_size(records: int) -> dict[str, Any]:
    """The figures of one size, on processes started for it alone."""
    with fresh_twin() as (twin, azurite_pid):
        return ScaleSize(twin, azurite_pid).measure(records)


def measure(n: int, scale_records: int) -> dict[str, Any]:
    """Both sizes, then the projection to PROJECTED_RECORDS from them."""
    sizes = {"n": measure_size(n), "scale": measure_size(scale_records)}
    return {"records": scale_records, **sizes, "projection": project_to(PROJECTED_RECORDS, sizes["n"], sizes["scale"])}


def project_to(records: int, small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """The figures at `records`, extrapolated linearly from two measured sizes (labelled as a projection)."""

    def line(low: float, high: float) -> float:
        slope = (high - low) / (large["records"] - small["records"])
        return max(high, high + slope * (records - large["records"]))

    per_page_small = small["seconds"] / max(small["source_pages"], 1)
    per_page_large = large["seconds"] / max(large["source_pages"], 1)
    pages = round(large["source_pages"] * records / large["records"])
    seconds = per_page_large * pages
    return {
        "records": records,
        "method": PROJECTION_METHOD,
        "seconds_per_page": {"n": round(per_page_small, 4), "scale": round(per_page_large, 4)},
        "step_seconds_per_page": {step: round(span / max(large["source_pages"], 1), 4)
                                  for step, span in large["phases"].items()},
        "source_pages": pages,
        "seconds": round(seconds, 1),
        "rps": round(records / seconds) if seconds else None,
        "seconds_if_per_page_grows": round(line(per_page_small, per_page_large) * pages, 1),
        "largest_history": round(line(small["largest_history"], large["largest_history"])),
    }

