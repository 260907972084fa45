"""Two-way sync at scale (issue 18): N accounts on each side, 1% edited on each side, a full and an incremental run.

On processes started for it alone (strict devhost), Sales and CDS are seeded with the same N
accounts, so the first full run links every pair and writes nothing (`link`). Then one
account in a hundred is edited in Sales and another one in a hundred in CDS, and a full run
merges them, reading both sides whole (`full`); then as many other accounts are edited on
each side and an incremental run merges those, reading what changed on each side, the
counterparts by key and their baselines (`incremental`). Each run reports its time, the
requests each sandbox answered, and the records it read and wrote each way; the figures come
from the HTTP API and the sandboxes' `/_sandbox` endpoints only.

Touching only the changed records is judged on the records read and the time. Requests are
reported but not judged: a full read takes up to 5,000 records a request and a read by key
50, so with 1% changed both runs send about as many requests, for fifty times fewer records.
"""

from __future__ import annotations

from typing import Any

from bench.console import say
from bench.project_runs import CONSENT, ProjectBench, RunFigures, expect
from bench.reference_clients import bulk_upsert
from bench.scale import fresh_twin
from bench.workload import CHANGED_SHARE, ENTITY_SET, KEY, account_number, field_mappings, sales_accounts

SEED_CHUNK = 10_000
LEGS = ("sourceToCds", "cdsToSource")
EDITED = {"sales": ("telephone1", (0, 10)), "cds": ("address1_city", (50, 60))}
"""What each side edits, and in which account of every hundred for the full run and for the incremental one."""
SETTINGS = {"DI_KEY_BUCKETS": "256"}
"""A merge step holds one bucket of both sides: with the default 32 buckets, a bucket of 100,000 pairs (3,125 a
side) outlasts the 10-minute functionTimeout on a 2-core twin, so the task is run as the README advises for large
two-way tasks."""



class TwoWayBench(ProjectBench):
    """One bidirectional task between Sales and CDS accounts, mapping the workload's plain copies both ways."""

    name = "bench-two-way"

    def create(self) -> None:
        self.twin.connect_all()
        key = {"entity": ENTITY_SET, "key": [KEY]}
        task = {"name": "Accounts", "direction": "bidirectional", "conflicts": "manual", "source": key, "cds": key,
                "sourceToCds": [item for item in field_mappings() if "transforms" not in item]}
        body = {"name": self.name, "connections": {"source": "sales", "cds": "cds"}, "tasks": [task],
                "consent": CONSENT}
        answer = self.twin.api("POST", "projects", json=body)
        if answer.status_code != 201:
            raise RuntimeError(f"the two-way bench project was refused: {answer.text}")

    def seed_both(self, records: int) -> None:
        """The same `records` accounts in Sales and in CDS."""
        for start in range(0, records, SEED_CHUNK):
            chunk = sales_accounts(min(SEED_CHUNK, records - start), start)
            self.source.seed(ENTITY_SET, chunk)
            self.target.seed(ENTITY_SET, chunk)

    def edit(self, records: int, round_: int) -> tuple[int, int]:
        """Edit one account in CHANGED_SHARE on each side, other accounts each round; how many in Sales and in CDS."""
        edited = []
        for side, admin in (("sales", self.source), ("cds", self.target)):
            field, offsets = EDITED[side]
            changes = [{KEY: account_number(n), field: f"{field} edited in {side}, round {round_}"}
                       for n in range(offsets[round_], records, CHANGED_SHARE)]
            bulk_upsert(admin.url, changes, 1000, 4)
            edited.append(len(changes))
        return edited[0], edited[1]

    def measured(self, mode: str, edited: tuple[int, int]) -> dict[str, Any]:
        """One run in `mode` that must carry the `edited` (Sales, CDS) records across, without conflicts."""
        run, outcome = self.run_with_outcome(mode)
        legs = {leg["leg"]: {name: leg.get(name, 0) for name in ("read", "written", "skipped", "failed", "conflicts")}
                for leg in outcome["tasks"][0]["legs"]}
        expect(run.status == "Succeeded" and tuple(legs[name]["written"] for name in LEGS) == edited
               and not any(leg["conflicts"] or leg["failed"] for leg in legs.values()),
               f"the two-way {mode} run wrote {edited} records (to CDS, to Sales) without conflicts: "
               f"{run.status} {legs}")
        return figures(run, legs)


def figures(run: RunFigures, legs: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {"seconds": round(run.seconds, 3), "sales_requests": run.source_requests,
            "cds_requests": run.target_requests, "records_read": sum(leg["read"] for leg in legs.values()),
            "legs": legs}


def measure(records: int) -> dict[str, Any]:
    """Link, full and incremental runs of `records` accounts on each side, on processes started for them alone."""
    with fresh_twin(SETTINGS) as (twin, _):
        bench = TwoWayBench(twin)
        bench.create()
        say(f"two-way: seeding {records:,} accounts in Sales and in CDS ...")
        bench.seed_both(records)
        say(f"two-way: first full run links {records:,} pairs ...")
        link = bench.measured("full", (0, 0))
        edited = bench.edit(records, 0)
        say(f"two-way: full run, {edited[0]:,} accounts edited in Sales and {edited[1]:,} in CDS ...")
        full = bench.measured("full", edited)
        edited = bench.edit(records, 1)
        say(f"two-way: incremental run, {edited[0]:,} other accounts edited in Sales and {edited[1]:,} in CDS ...")
        incremental = bench.measured("incremental", edited)
    return {
        "records": records,
        "edited": {"sales": edited[0], "cds": edited[1]},
        "link": link,
        "full": full,
        "incremental": incremental,
        "twoway_incremental_fraction": round(incremental["seconds"] / full["seconds"], 4),
        "twoway_incremental_read_fraction": round(incremental["records_read"] / full["records_read"], 4),
        "twoway_incremental_requests_fraction": round(
            (incremental["sales_requests"] + incremental["cds_requests"])
            / (full["sales_requests"] + full["cds_requests"]), 4),
    }
