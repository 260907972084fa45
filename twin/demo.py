"""`make demo`: the prospect-to-cash integration end to end on the local twin.

    python -m twin.demo [--records N] [--keep]

Starts Azurite, the Sales, CDS and Operations sandbox systems (with sample data that has
the dirt real data has) and devhost; creates the connections and, with consent, one
project per template over the HTTP API; runs them in order with Sync Now while showing
their progress; prints the run history, a few records side by side, the error records;
changes a few Sales accounts and runs Accounts again incrementally; checks that what it
printed is what the systems hold; shows a two-way project between Sales and CDS
(twin/demo_twoway.py); and stops everything it started (unless `--keep`).
Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import datetime
from typing import Any

from sandbox.datasets.prospect_to_cash import COUNTRIES, DIRT
from twin.demo_twoway import TwoWayDemo
from twin.local_twin import LocalTwin

CONSENT = {
    "accepted": True,
    "acceptedBy": "admin@contoso.example",
    "noticeVersion": "2026-01",
    "dataResidency": {"from": "United States", "to": "United States"},
}
DIRECTION = {
    "sales-to-operations": {"source": "sales", "cds": "cds", "destination": "operations"},
    "operations-to-sales": {"source": "operations", "cds": "cds", "destination": "sales"},
}
COLUMNS = ("project", "task", "status", "read", "written", "skipped", "failed", "seconds")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2000, help="Sales accounts in the sample data")
    parser.add_argument("--keep", action="store_true", help="keep the servers up until Ctrl-C")
    args = parser.parse_args()
    say(f"Starting the local twin: Azurite, Sales, CDS and Operations ({args.records} accounts), devhost")
    with LocalTwin.start(records=args.records) as twin:
        for name, system in twin.systems.items():
            say(f"  {name:<11} {system.kind:<9} {system.url}")
        say(f"  {'devhost':<11} {'':<9} {twin.url}")
        say(f"  {'dashboard':<11} {'':<9} {twin.dashboard_url}")
        demo = Demo(twin)
        ok = demo.run()
        if args.keep:
            say(f"\nServers are up (function key {twin.host.key}). Ctrl-C stops them.")
            say(f"Operator dashboard: {twin.dashboard_url}")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        say("Stopping every process the demo started.")
    return 0 if ok else 1


def say(text: str = "") -> None:
    print(text, flush=True)


class Demo:
    def __init__(self, twin: LocalTwin) -> None:
        self.twin = twin
        self.runs: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []

    def run(self) -> bool:
        self.twin.connect_all()
        say("\nConnections: sales, cds, operations (sandbox systems, no credentials)")
        templates = [template for template in self.twin.api("GET", "templates").json()
                     if not any(task.get("direction") == "bidirectional" for task in template["tasks"])]
        for template in templates:
            self.create_project(template)
        say("\nSync Now, project by project, in the prospect-to-cash order:")
        for template in templates:
            self.runs[template["name"]] = self.sync(template["name"])
        self.history()
        self.side_by_side()
        self.error_records()
        self.incremental()
        self.check()
        TwoWayDemo(self.twin, say, self.expect, table, CONSENT).run()
        for message in self.problems:
            say(f"  FAILED: {message}")
        if not self.problems:
            say("\nAll checks passed.")
        return not self.problems

    # --- setting up -----------------------------------------------------------------------

    def create_project(self, template: dict[str, Any]) -> None:
        first = template["tasks"][0]
        direction = "operations-to-sales" if first["source"][0].isupper() else "sales-to-operations"
        body = {"name": template["name"], "template": template["name"], "connections": DIRECTION[direction],
                "consent": CONSENT}
        answer = self.twin.api("POST", "projects", json=body)
        answer.raise_for_status()
        tasks = ", ".join(t["name"] for t in template["tasks"])
        say(f"Project {template['name']:<9} ({direction}, consent recorded): {tasks}")

    def sync(self, project: str, mode: str = "full") -> dict[str, Any]:
        started = self.twin.api("POST", f"projects/{project}/runs", json={"mode": mode})
        started.raise_for_status()
        progress = Progress(project)
        run = self.twin.follow(started, on_poll=progress.show)
        progress.done(run)
        return run

    # --- reporting ---------------------------------------------------------------------------

    def history(self) -> None:
        say("\nExecution history (GET /api/projects/{id}/runs):")
        rows = []
        for project in self.runs:
            for run in self.twin.api("GET", f"projects/{project}/runs").json():
                seconds = _seconds(run["createdTime"], run["lastUpdatedTime"])
                for task in run["tasks"]:
                    rows.append((project, task["name"], task["status"], task["read"], task["written"],
                                 task["skipped"], task["failed"], f"{seconds:.1f}"))
        table(COLUMNS, rows)

    def side_by_side(self) -> None:
        say("\nA few accounts side by side, Sales -> CDS -> Operations:")
        sales = self.by_number("sales", "accounts", "accountnumber")
        cds = self.by_number("cds", "accounts", "accountnumber")
        ops = self.by_number("operations", "CustomersV3", "CustomerAccount")
        rows = []
        for number in self.showcase(sales, cds):
            rows.append((
                number,
                repr(sales.get(number, {}).get("address1_country")),
                repr(cds.get(number, {}).get("address1_country", "-")),
                repr(ops.get(number, {}).get("AddressCountryRegionId", "-")),
                (ops.get(number) or cds.get(number) or sales.get(number) or {}).get("name")
                or ops.get(number, {}).get("OrganizationName", "-"),
            ))
        table(("account", "Sales country", "CDS country", "Operations country", "name"), rows)

    @staticmethod
    def showcase(sales: dict[str, dict[str, Any]], cds: dict[str, dict[str, Any]]) -> list[str]:
        """Synced accounts with telling country spellings, and the one with an unknown country."""
        chosen = []
        for spelling in ("United States of America ", "U.S.", "deu", "Deutschland", "UK", "Narnia"):
            found = [n for n, a in sorted(sales.items()) if a.get("address1_country") == spelling and n in cds]
            chosen.extend(found[:1])
        return chosen

    def error_records(self) -> None:
        say("\nError records (GET /api/runs/{runId}/errors), by reason:")
        rows = []
        for project, run in self.runs.items():
            errors = self.errors(run)
            grouped = Counter((e["task"], e["leg"], e["field"] or "-", e["message"][:70]) for e in errors)
            for (task, leg, field, message), count in grouped.most_common(4):
                rows.append((project, task, leg, field, count, message))
        table(("project", "task", "leg", "field", "records", "target system's message"), rows)
        skipped = Counter()
        for run in self.runs.values():
            for task in run["tasks"]:
                for leg in task["legs"]:
                    skipped.update(leg["skippedReasons"])
        say("Skipped records, by reason: " + ", ".join(f"{r} {n}" for r, n in sorted(skipped.items())))

    def incremental(self) -> None:
        say("\nChanging 3 accounts in Sales, then Sync Now for accounts in incremental mode:")
        sales = self.by_number("sales", "accounts", "accountnumber")
        changed = [n for n in sorted(sales) if sales[n]["statecode"] == 0 and n.startswith("A-")][100:103]
        root = self.twin.systems["sales"].url + "/api/data/v9.2/"
        for number in changed:
            self.twin.session.patch(f"{root}accounts(accountnumber='{number}')", json={"telephone1": "+1 425 555 0100"},
                                    headers={"If-Match": "*"}, timeout=30).raise_for_status()
            say(f"  {number}: telephone1 -> +1 425 555 0100")
        run = self.sync("accounts", mode="incremental")
        legs = run["tasks"][0]["legs"]
        say("  moved: " + ", ".join(f"{leg['leg']} read {leg['read']} written {leg['written']}" for leg in legs))
        ops = self.by_number("operations", "CustomersV3", "CustomerAccount")
        if [leg["read"] for leg in legs] != [3, 3] or any(ops[n]["PrimaryContactPhone"] != "+1 425 555 0100"
                                                       for n in changed):
            self.problems.append(f"the incremental run should move exactly the 3 changed accounts: {legs}")

    # --- checking ---------------------------------------------------------------------------------

    def check(self) -> None:
        """What the demo printed is what the systems hold."""
        say("\nChecks against the sandbox systems:")
        entities = {"products": ("products", "productnumber", "sales", "products", "productnumber"),
                    "accounts": ("accounts", "accountnumber", "operations", "CustomersV3", "CustomerAccount")}
        for project, (cds_set, cds_key, dest, dest_set, dest_key) in entities.items():
            task = self.runs[project]["tasks"][0]
            to_cds, to_dest = task["legs"]
            in_cds = self.by_number("cds", cds_set, cds_key)
            failed = {e["businessKey"].get(dest_key) for e in self.errors(self.runs[project])
                      if e["leg"] == "cdsToDestination"}
            in_dest = self.by_number(dest, dest_set, dest_key)
            self.expect(len(in_cds) == to_cds["written"],
                        f"{project}: CDS holds {len(in_cds)} {cds_set}, the run wrote {to_cds['written']}")
            missing = [k for k in in_cds if k not in failed and k not in in_dest]
            self.expect(not missing and len(failed) == to_dest["failed"],
                        f"{project}: every CDS record not failed is in {dest} ({to_dest['written']} written, "
                        f"{to_dest['failed']} failed)")
        self.check_dirt()

    def check_dirt(self) -> None:
        sales = self.twin.records("sales", "accounts")
        cds = self.by_number("cds", "accounts", "accountnumber")
        ops = self.by_number("operations", "CustomersV3", "CustomerAccount")
        errors = {(e["leg"], e["businessKey"].get("CustomerAccount") or e["businessKey"].get("accountnumber")): e
                  for e in self.errors(self.runs["accounts"])}
        no_number = [a for a in sales if not (a["accountnumber"] or "").strip() and a["statecode"] == 0]
        reasons = self.runs["accounts"]["tasks"][0]["legs"][0]["skippedReasons"]
        self.expect(reasons.get("missing-business-key") == len(no_number),
                    f"{len(no_number)} active accounts without an account number skipped (missing-business-key)")
        iso = {spelling.strip().casefold(): code for spelling, code in COUNTRIES}

        def country(account: dict[str, Any]) -> str:
            return (account["address1_country"] or "").strip().casefold()

        spelled = [a for a in sales if a["accountnumber"] in ops and a["accountnumber"] in cds and country(a) in iso]
        wrong = [a["accountnumber"] for a in spelled
                 if ops[a["accountnumber"]]["AddressCountryRegionId"] != iso[country(a)]]
        kinds = len({a["address1_country"] for a in spelled})
        self.expect(not wrong and kinds > 5,
                    f"{len(spelled)} accounts with {kinds} spellings of countries reach Operations as ISO codes")
        narnia = f"A-{DIRT['narnia'] + 1:06d}"
        if narnia in cds:
            error = errors.get(("cdsToDestination", narnia))
            self.expect(error is not None and error["field"] == "AddressCountryRegionId" and narnia not in ops,
                        f"{narnia}: the unknown country 'Narnia' passes through CDS and fails in Operations "
                        "with an error record naming AddressCountryRegionId")
        long_name = f"A-{DIRT['long_name'] + 1:06d}"
        if long_name in cds:
            error = errors.get(("cdsToDestination", long_name))
            self.expect(error is not None and error["field"] == "OrganizationName",
                        f"{long_name}: the over-long name fails in Operations with an error naming OrganizationName")
        first = DIRT["duplicate_account_number"][0]
        pair = [a for a in sales if (a["accountnumber"] or "").strip() == f"A-{first + 1:06d}"]
        if len(pair) == 2 and all(a["statecode"] == 0 for a in pair):
            kept = [a["accountnumber"] for a in pair if a["accountnumber"] in cds]
            newest = max(range(2), key=lambda n: (pair[n]["modifiedon"] or "", n))  # same stamp: the later read
            self.expect(kept == [pair[newest]["accountnumber"]],
                        f"duplicate account number {pair[0]['accountnumber']!r}/{pair[1]['accountnumber']!r}: "
                        "one record in CDS, the more recently modified one")

    def expect(self, ok: bool, claim: str) -> None:
        say(f"  {'ok  ' if ok else 'FAIL'} {claim}")
        if not ok:
            self.problems.append(claim)

    # --- reading -------------------------------------------------------------------------------------

    def by_number(self, system: str, entity_set: str, key: str) -> dict[str, dict[str, Any]]:
        return {r[key]: r for r in self.twin.records(system, entity_set) if r.get(key)}

    def errors(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            params = {"continuationToken": token} if token else None
            page = self.twin.api("GET", run["errorsUri"].removeprefix(f"{self.twin.url}/api/"), params=params).json()
            found.extend(page["value"])
            token = page["continuationToken"]
            if not token:
                return found


class Progress:
    """One line per project, refreshed in place on a terminal, printed on change otherwise."""

    def __init__(self, project: str) -> None:
        self.project = project
        self.started = time.monotonic()
        self.last = ""
        self.tty = sys.stdout.isatty()

    def show(self, run: dict[str, Any]) -> None:
        status = run.get("customStatus") or {}
        if "taskNumber" in status:
            bar = "#" * (status["taskNumber"] - 1) + ">" + "." * (status["taskCount"] - status["taskNumber"])
            text = f"  {self.project:<9} [{bar}] task {status['taskNumber']}/{status['taskCount']} {status['task']}"
        else:
            text = f"  {self.project:<9} {run['runtimeStatus'].lower()}"
        if self.tty:
            print(f"\r{text:<70} {time.monotonic() - self.started:5.1f}s", end="", flush=True)
        elif text != self.last:
            say(text)
        self.last = text

    def done(self, run: dict[str, Any]) -> None:
        counts = ", ".join(
            f"{t['name']}: read {t['read']} written {t['written']} skipped {t['skipped']} failed {t['failed']}"
            for t in run["tasks"]
        )
        line = f"  {self.project:<9} {run['runtimeStatus']:<9} in {time.monotonic() - self.started:4.1f}s  {counts}"
        print(("\r" if self.tty else "") + line, flush=True)


def table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    cells = [tuple(str(c) for c in header), *(tuple(str(c) for c in row) for row in rows)]
    widths = [min(max(len(row[i]) for row in cells), 60) for i in range(len(header))]
    for n, row in enumerate(cells):
        say("  " + "  ".join(cell[:60].ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            say("  " + "  ".join("-" * width for width in widths))


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


if __name__ == "__main__":
    sys.exit(main())
