"""`make bench`: the project's throughput, incremental cost and memory against reference clients.

    .venv/bin/python -m bench [--records N] [--scale-records M] [--twoway-records T]
        [--skip memory,reference,scale,twoway,...] [--devhost strict,lenient]

Scenarios (issue 7), all on local twins whose CDS is the measured target:

    mapping      the mapping engine alone, records/s on one core
    project      a full run of N Sales accounts to CDS: Sync Now -> done on a fresh devhost
                 (the run the goals use), then the same again on the warm devhost
    incremental  1% of the source changed, then an incremental run (compared with the warm full run)
    reference    per-record PATCH x10 and $batch of 10 x10 on the same records
    wire         UpsertMultiple with prebuilt bodies at the best batch size and concurrency
    memory       devhost's peak RSS for a full run of N and of 10 x N (fresh devhost each),
                 then 1% of the 10 x N changed and an incremental run
    scale        issue 15 (bench/scale.py): on strict devhost, N and M records (`--scale-records`,
                 default $SCALE_RECORDS or 1,000,000), each on processes started for it alone: a full
                 run, then 1% changed and an incremental run; records/s, orchestration instances, the
                 largest history, the peak RSS of every process, and a projection to 10,000,000
    twoway       issue 18 (bench/twoway.py): on strict devhost, T accounts on each side of a two-way task
                 (`--twoway-records`, default 100,000), fresh processes: a run linking them, then 1% edited
                 on each side and a full run, then 1% others and an incremental run; time, requests to
                 each sandbox and records read of both

The project's scenarios (project, incremental, memory) run once per devhost mode, each on a
twin of its own: strict (as Azure, the default) and lenient (`--lenient`). The goals are
judged on the strict figures; the lenient ones stand beside them to show what strictness
costs. The reference clients and the wire limit do not involve devhost and run once, on the
first twin (strict). Every contender writes to a freshly reset target. Writes bench/results/<UTC
time>.json (schema in bench/report.py) and prints a table with the goals.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import machine, report
from bench.console import say
from bench.mapping_engine import measure as measure_mapping
from bench.project_runs import ProjectBench, RunFigures, expect
from bench.reference_clients import ClientRun, batch_upsert, bulk_upsert, per_record_upsert
from bench.scale import measure as measure_scale
from bench.twoway import measure as measure_twoway
from bench.workload import (
    CHANGED_SHARE,
    ENTITY_SET,
    SOURCE_KNOBS,
    TARGET_KNOBS,
    changed_accounts,
    sales_accounts,
    target_payloads,
)
from twin.local_twin import LocalTwin

SCENARIOS = ("mapping", "incremental", "reference", "wire", "memory", "scale", "twoway")
"""The scenarios `--skip` can leave out; the full project run always runs."""
WIRE_GRID = ((1000, 16), (1000, 32), (1000, 48), (500, 48), (250, 48))
"""(batch size, concurrency) pairs tried for the wire limit; the fastest counts."""
SEED_CHUNK = 10_000
SCALE_RECORDS = 1_000_000
"""The scale scenario's size unless `--scale-records` or the SCALE_RECORDS environment variable says otherwise."""
TWOWAY_RECORDS = 100_000
"""The two-way scenario's accounts on each side unless `--twoway-records` says otherwise."""



class Bench:
    """Runs the scenarios in order and gathers their figures into one result."""

    def __init__(
        self, records: int, skip: set[str], modes: tuple[str, ...] = report.DEVHOST_MODES,
        scale_records: int = SCALE_RECORDS, twoway_records: int = TWOWAY_RECORDS,
    ) -> None:
        self.n = records
        self.skip = skip
        self.modes = modes
        self.scale_records = scale_records
        self.twoway_records = twoway_records
        self.result: dict[str, Any] = {
            "schema": report.SCHEMA,
            "records": records,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine.describe(),
            "target_knobs": TARGET_KNOBS,
            "source_knobs": SOURCE_KNOBS,
            "judged_on": report.JUDGED_MODE,
            "contenders": [],
            "devhost": {},
        }

    def run(self) -> dict[str, Any]:
        if "mapping" not in self.skip:
            say("mapping engine ...")
            self.result["mapping_rps"] = measure_mapping(200_000, 5)["mapping_rps"]
        for mode in self.modes:
            self.devhost_mode(mode)
        if "scale" not in self.skip:
            say(f"scale: {self.n:,} and {self.scale_records:,} records on strict devhost, fresh processes each ...")
            self.result["scale"] = measure_scale(self.n, self.scale_records)
        if "twoway" not in self.skip:
            say(f"two-way: {self.twoway_records:,} accounts on each side, strict devhost, fresh processes ...")
            self.result["twoway"] = measure_twoway(self.twoway_records)
        report.derive(self.result)
        return self.result

    def devhost_mode(self, mode: str) -> None:
        """The project's scenarios on a twin whose devhost runs in `mode`; the clients too on the first twin."""
        figures: dict[str, Any] = {}
        self.result["devhost"][mode] = figures
        knobs = {"cds": TARGET_KNOBS, "sales": SOURCE_KNOBS}
        with LocalTwin.start(records=0, dataset=False, knobs=knobs, lenient=mode == "lenient") as twin:
            project = ProjectBench(twin)
            project.create()
            records = sales_accounts(self.n)
            project.source.seed(ENTITY_SET, records)
            warm = self.project(project, mode, figures)
            if "incremental" not in self.skip:
                self.incremental(project, warm, figures, mode)
            if mode == self.modes[0]:
                self.clients(project, target_payloads(records))
            if "memory" not in self.skip:
                self.memory(project, mode, figures)

    def clients(self, project: ProjectBench, payloads: list[dict[str, Any]]) -> None:
        """The reference clients and the wire limit, on the same N records."""
        if "reference" not in self.skip:
            self.contender(project, "per_record", lambda: per_record_upsert(project.target.url, payloads))
            self.contender(project, "batch10", lambda: batch_upsert(project.target.url, payloads))
        if "wire" not in self.skip:
            self.wire_limit(project, payloads)

    def project(self, project: ProjectBench, mode: str, figures: dict[str, Any]) -> RunFigures:
        """The full run on a fresh devhost (the one the goals use), then again on the warm devhost (returned)."""
        runs = []
        for name in ("project, first run", "project, second run"):
            say(f"{name} ({mode} devhost): full run of {self.n:,} records ...")
            project.target.reset(TARGET_KNOBS)
            run = project.run("full")
            expect(run.status == "Succeeded" and run.written == self.n, f"the full run ({mode}) wrote {run}")
            expect(project.target_count() == self.n, f"the target holds every record after the full run ({mode})")
            self.result["contenders"].append({**_row(name, run.seconds, run.rps, run.target_requests,
                                                     run.target_throttled), "devhost": mode})
            runs.append(run)
        first, second = runs
        figures.update(project_s=round(first.seconds, 3), project_rps=round(first.rps), project_run=vars(first),
                       project_warm_s=round(second.seconds, 3), project_warm_rps=round(second.rps),
                       rss_mb_n=round(first.peak_rss_mb, 1))
        return second

    def incremental(
        self, project: ProjectBench, full: RunFigures, figures: dict[str, Any], mode: str, suffix: str = ""
    ) -> None:
        """Change one source record in CHANGED_SHARE, run incremental, compare with the `full` run before it."""
        changes = changed_accounts(full.read)
        say(f"incremental ({mode} devhost): {len(changes):,} of {full.read:,} source records changed ...")
        bulk_upsert(project.source.url, changes, 1000, 4)
        run = project.run("incremental")
        expect(run.status == "Succeeded" and run.written == len(changes), f"the incremental run ({mode}) wrote {run}")
        figures["incremental" + suffix] = {"changed": len(changes), **vars(run), "requests": run.requests}
        figures["incremental_fraction" + suffix] = round(run.seconds / full.seconds, 4)
        figures["incremental_requests_fraction" + suffix] = round(run.requests / full.requests, 4)

    def contender(self, project: ProjectBench, name: str, client: Callable[[], ClientRun]) -> ClientRun:
        project.target.reset(TARGET_KNOBS)
        say(f"reference client: {name} ...")
        run = client()
        expect(project.target_count() == self.n, f"{run.name} wrote every record")
        self.result[f"{name}_rps"] = round(run.rps)
        self.result["contenders"].append(_client_row(run.name + " x10", run))
        return run

    def wire_limit(self, project: ProjectBench, payloads: list[dict[str, Any]]) -> None:
        best: ClientRun | None = None
        tried = []
        for batch, workers in WIRE_GRID:
            project.target.reset(TARGET_KNOBS)
            say(f"wire limit: UpsertMultiple of {batch} x {workers} ...")
            run = bulk_upsert(project.target.url, payloads, batch, workers)
            expect(project.target_count() == self.n, f"{run.name} wrote every record")
            tried.append({"batch": batch, "workers": workers, "seconds": round(run.seconds, 3),
                          "throttled": run.throttled, "connection_retries": run.connection_retries})
            if best is None or run.seconds < best.seconds:
                best = run
        assert best is not None
        self.result.update(wire_limit_s=round(best.seconds, 3), wire_limit_rps=round(best.rps),
                           wire_limit_client=best.name, wire_limit_tried=tried)
        self.result["contenders"].append(_client_row(f"wire limit: {best.name}", best))

    def memory(self, project: ProjectBench, mode: str, figures: dict[str, Any]) -> None:
        """A full run of 10 x N on a fresh devhost for its peak RSS, then an incremental run after it."""
        big = self.n * 10
        say(f"memory ({mode} devhost): full run of {big:,} records on a fresh devhost ...")
        project.twin.restart_devhost(kill=False)
        project.source.reset(SOURCE_KNOBS)
        for start in range(0, big, SEED_CHUNK):
            project.source.seed(ENTITY_SET, sales_accounts(min(SEED_CHUNK, big - start), start))
        project.target.reset(TARGET_KNOBS)
        run = project.run("full")
        expect(run.status == "Succeeded" and run.written == big, f"the 10 x N run ({mode}) wrote {run}")
        figures.update(rss_mb_10n=round(run.peak_rss_mb, 1), project_10n_s=round(run.seconds, 3),
                       project_10n_rps=round(run.rps))
        if "incremental" not in self.skip:
            self.incremental(project, run, figures, mode, "_10n")


def _row(name: str, seconds: float, rps: float, requests: int, throttled: int) -> dict[str, Any]:
    return {"name": name, "seconds": round(seconds, 3), "rps": round(rps), "requests": requests,
            "throttled": throttled}


def _client_row(name: str, run: ClientRun) -> dict[str, Any]:
    return {**_row(name, run.seconds, run.rps, run.requests, run.throttled),
            "connection_retries": run.connection_retries}


def _names(text: str) -> set[str]:
    return {name.strip() for name in text.split(",") if name.strip()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000, help="N, the records of the full load")
    parser.add_argument("--scale-records", type=int, default=int(os.environ.get("SCALE_RECORDS") or SCALE_RECORDS),
                        help="records of the scale scenario (default: $SCALE_RECORDS, else 1,000,000)")
    parser.add_argument("--twoway-records", type=int, default=TWOWAY_RECORDS,
                        help="accounts on each side of the two-way scenario")
    parser.add_argument("--skip", default="", help=f"comma-separated scenarios to leave out: {', '.join(SCENARIOS)}")
    parser.add_argument("--devhost", default=",".join(report.DEVHOST_MODES),
                        help="comma-separated devhost modes to measure the project in (the goals use strict)")
    args = parser.parse_args()
    skip, wanted = _names(args.skip), _names(args.devhost)
    unknown = (skip - set(SCENARIOS)) | (wanted - set(report.DEVHOST_MODES))
    if unknown:
        parser.error(f"unknown scenarios or devhost modes: {sorted(unknown)}")
    if not wanted:
        parser.error("--devhost needs at least one mode")
    if args.records < CHANGED_SHARE:
        parser.error(f"--records must be >= {CHANGED_SHARE}")
    if "scale" not in skip and args.scale_records <= args.records:
        parser.error("--scale-records must be larger than --records")
    if args.twoway_records < CHANGED_SHARE:
        parser.error(f"--twoway-records must be >= {CHANGED_SHARE}")
    modes = tuple(mode for mode in report.DEVHOST_MODES if mode in wanted)
    result = Bench(args.records, skip, modes, args.scale_records, args.twoway_records).run()
    path = report.write(result)
    print(report.table(result))
    print(f"\nwritten to {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
