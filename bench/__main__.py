"""`make bench`: the project's throughput, incremental cost and memory against reference clients.

    .venv/bin/python -m bench [--records N] [--skip memory,reference,...]

Scenarios (issue 7), all on one local twin whose CDS is the measured target:

    mapping      the mapping engine alone, records/s on one core
    project      a full run of N Sales accounts to CDS: Sync Now -> done on a fresh devhost
                 (the run the goals use), then the same again on the warm devhost
    incremental  1% of the source changed, then an incremental run (compared with the warm full run)
    reference    per-record PATCH x10 and $batch of 10 x10 on the same records
    wire         UpsertMultiple with prebuilt bodies at the best batch size and concurrency
    memory       devhost's peak RSS for a full run of N and of 10 x N (fresh devhost each),
                 then 1% of the 10 x N changed and an incremental run

Every contender writes to a freshly reset target. Writes bench/results/<UTC time>.json
and prints a table with the goals.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import machine, report
from bench.mapping_engine import measure as measure_mapping
from bench.project_runs import ProjectBench, RunFigures
from bench.reference_clients import ClientRun, batch_upsert, bulk_upsert, per_record_upsert
from bench.workload import ENTITY_SET, KEY, SOURCE_KNOBS, TARGET_KNOBS, sales_accounts, target_payloads
from devhost.twin import LocalTwin

SCENARIOS = ("mapping", "incremental", "reference", "wire", "memory")
"""The scenarios `--skip` can leave out; the full project run always runs."""
WIRE_GRID = ((1000, 16), (1000, 32), (1000, 48), (500, 48), (250, 48))
"""(batch size, concurrency) pairs tried for the wire limit; the fastest counts."""
CHANGED_SHARE = 100
"""One source record in this many changes before the incremental run."""
SEED_CHUNK = 10_000


def say(text: str = "") -> None:
    print(text, file=sys.stderr, flush=True)


class Bench:
    """Runs the scenarios in order and gathers their figures into one result."""

    def __init__(self, records: int, skip: set[str]) -> None:
        self.n = records
        self.skip = skip
        self.result: dict[str, Any] = {
            "records": records,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine.describe(),
            "target_knobs": TARGET_KNOBS,
            "source_knobs": SOURCE_KNOBS,
            "contenders": [],
        }

    def run(self) -> dict[str, Any]:
        if "mapping" not in self.skip:
            say("mapping engine ...")
            self.result["mapping_rps"] = measure_mapping(200_000, 5)["mapping_rps"]
        knobs = {"cds": TARGET_KNOBS, "sales": SOURCE_KNOBS}
        with LocalTwin.start(records=0, dataset=False, knobs=knobs) as twin:
            project = ProjectBench(twin)
            project.create()
            self.same_records(project)
            if "memory" not in self.skip:
                self.memory(project)
        self.ratios()
        self.result["goals"] = report.goals(self.result)
        return self.result

    def same_records(self, project: ProjectBench) -> None:
        """Every contender on the same N records: the project (full, then incremental), the clients."""
        records = sales_accounts(self.n)
        project.source.seed(ENTITY_SET, records)
        warm = self.project(project)
        if "incremental" not in self.skip:
            self.incremental(project, warm)
        payloads = target_payloads(records)
        if "reference" not in self.skip:
            self.contender(project, "per_record", lambda: per_record_upsert(project.target.url, payloads))
            self.contender(project, "batch10", lambda: batch_upsert(project.target.url, payloads))
        if "wire" not in self.skip:
            self.wire_limit(project, payloads)

    def project(self, project: ProjectBench) -> RunFigures:
        """The full run on a fresh devhost (the one the goals use), then again on the warm devhost (returned)."""
        runs = []
        for name in ("project, first run", "project, second run"):
            say(f"{name}: full run of {self.n:,} records ...")
            project.target.reset(TARGET_KNOBS)
            run = project.run("full")
            _expect(run.status == "Succeeded" and run.written == self.n, f"the full run wrote {run}")
            _expect(project.target_count() == self.n, "the target holds every record after the full run")
            self.result["contenders"].append(_row(name, run.seconds, run.rps, run.target_requests,
                                                  run.target_throttled))
            runs.append(run)
        first, second = runs
        self.result.update(project_s=round(first.seconds, 3), project_rps=round(first.rps), project_run=vars(first),
                           project_warm_s=round(second.seconds, 3), project_warm_rps=round(second.rps),
                           rss_mb_n=round(first.peak_rss_mb, 1))
        return second

    def incremental(self, project: ProjectBench, full: RunFigures, suffix: str = "") -> None:
        """Change one source record in CHANGED_SHARE, run incremental, compare with the `full` run before it."""
        changes = [{KEY: r[KEY], "telephone1": "+1 425 555 0199", "name": r["name"] + " (moved)"}
                   for r in sales_accounts(full.read)[::CHANGED_SHARE]]
        say(f"incremental: {len(changes):,} of {full.read:,} source records changed ...")
        bulk_upsert(project.source.url, changes, 1000, 4)
        run = project.run("incremental")
        _expect(run.status == "Succeeded" and run.written == len(changes), f"the incremental run wrote {run}")
        self.result["incremental" + suffix] = {"changed": len(changes), **vars(run), "requests": run.requests}
        self.result["incremental_fraction" + suffix] = round(run.seconds / full.seconds, 4)
        self.result["incremental_requests_fraction" + suffix] = round(run.requests / full.requests, 4)

    def contender(self, project: ProjectBench, name: str, client: Callable[[], ClientRun]) -> ClientRun:
        project.target.reset(TARGET_KNOBS)
        say(f"reference client: {name} ...")
        run = client()
        _expect(project.target_count() == self.n, f"{run.name} wrote every record")
        self.result[f"{name}_rps"] = round(run.rps)
        self.result["contenders"].append(_row(run.name + " x10", run.seconds, run.rps, run.requests, run.throttled))
        return run

    def wire_limit(self, project: ProjectBench, payloads: list[dict[str, Any]]) -> None:
        best: ClientRun | None = None
        tried = []
        for batch, workers in WIRE_GRID:
            project.target.reset(TARGET_KNOBS)
            say(f"wire limit: UpsertMultiple of {batch} x {workers} ...")
            run = bulk_upsert(project.target.url, payloads, batch, workers)
            _expect(project.target_count() == self.n, f"{run.name} wrote every record")
            tried.append({"batch": batch, "workers": workers, "seconds": round(run.seconds, 3),
                          "throttled": run.throttled})
            if best is None or run.seconds < best.seconds:
                best = run
        assert best is not None
        self.result.update(wire_limit_s=round(best.seconds, 3), wire_limit_rps=round(best.rps),
                           wire_limit_client=best.name, wire_limit_tried=tried)
        self.result["contenders"].append(_row(f"wire limit: {best.name}", best.seconds, best.rps, best.requests,
                                              best.throttled))

    def memory(self, project: ProjectBench) -> None:
        """A full run of 10 x N on a fresh devhost for its peak RSS, then an incremental run after it."""
        big = self.n * 10
        say(f"memory: full run of {big:,} records on a fresh devhost ...")
        project.twin.restart_devhost(kill=False)
        project.source.reset(SOURCE_KNOBS)
        for start in range(0, big, SEED_CHUNK):
            project.source.seed(ENTITY_SET, sales_accounts(min(SEED_CHUNK, big - start), start))
        project.target.reset(TARGET_KNOBS)
        run = project.run("full")
        _expect(run.status == "Succeeded" and run.written == big, f"the 10 x N run wrote {run}")
        self.result.update(rss_mb_10n=round(run.peak_rss_mb, 1), project_10n_s=round(run.seconds, 3),
                           project_10n_rps=round(run.rps))
        if "incremental" not in self.skip:
            self.incremental(project, run, "_10n")

    def ratios(self) -> None:
        r = self.result
        rps = r.get("project_rps")
        for name in ("per_record", "batch10"):
            if rps and r.get(f"{name}_rps"):
                r[f"vs_{name}"] = round(rps / r[f"{name}_rps"], 2)
        if r.get("wire_limit_s") and r.get("project_s"):
            r["vs_wire_limit"] = round(r["project_s"] / r["wire_limit_s"], 2)
        if r.get("rss_mb_10n") and r.get("rss_mb_n"):
            r["rss_growth"] = round(r["rss_mb_10n"] / r["rss_mb_n"], 2)
        for row in r["contenders"]:
            if not row["name"].startswith("project"):
                row["project_speedup"] = round(rps / row["rps"], 2) if rps and row["rps"] else None


def _row(name: str, seconds: float, rps: float, requests: int, throttled: int) -> dict[str, Any]:
    return {"name": name, "seconds": round(seconds, 3), "rps": round(rps), "requests": requests,
            "throttled": throttled}


def _expect(ok: bool, claim: str) -> None:
    if not ok:
        raise SystemExit(f"bench: check failed: {claim}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000, help="N, the records of the full load")
    parser.add_argument("--skip", default="", help=f"comma-separated scenarios to leave out: {', '.join(SCENARIOS)}")
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(SCENARIOS) - {""}
    if unknown or args.records < CHANGED_SHARE:
        parser.error(f"unknown scenarios {sorted(unknown)}" if unknown else f"--records must be >= {CHANGED_SHARE}")
    result = Bench(args.records, skip).run()
    path = report.write(result)
    print(report.table(result))
    print(f"\nwritten to {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
