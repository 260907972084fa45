"""The two-way part of `make demo`: the accounts-two-way template, accounts both ways between Sales and CDS.

It starts from Sales and CDS as the one-way demo left them (the active Sales accounts copied
to CDS by the same mapping), so its first run links the pairs that already agree and copies
the rest. Then people edit both systems: disjoint fields of one account, the same field of
another, and a new account on each side. The next run (incremental) merges the first,
creates the new ones on the other side and leaves the second as a conflict for a person
(`manual`), who settles it over the API; the run after applies that, and a full run after it
writes nothing either way. Every figure shown is checked against the API and the sandbox
systems.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twin.local_twin import LocalTwin

PROJECT = TEMPLATE = "accounts-two-way"
NEW_IN_SALES = {"accountnumber": "TW-SALES-1", "name": "Tailspin Toys (entered in Sales)", "address1_city": "Oslo"}
NEW_IN_CDS = {"accountnumber": "TW-CDS-1", "name": "Wingtip Toys (entered in CDS)", "address1_city": "Lyon"}
PHONE = "+1 425 555 0199"
CITY = "Tromsø"
LEGS = ("sourceToCds", "cdsToSource")
COLUMNS = ("run", "mode", "status", *(f"{leg} {count}" for leg in LEGS for count in ("read", "written")),
           "conflicts")


class TwoWayDemo:
    """The two-way section of the demo; `say`, `expect` and `table` are the demo's own printers."""

    def __init__(self, twin: LocalTwin, say: Callable[[str], None], expect: Callable[[bool, str], None],
                 table: Callable[[tuple[str, ...], list[tuple[Any, ...]]], None], consent: dict[str, Any]) -> None:
        self.twin = twin
        self.say = say
        self.expect = expect
        self.table = table
        self.consent = consent
        self.rows: list[tuple[Any, ...]] = []

    def run(self) -> None:
        self.say(f"\nTwo-way sync: project {PROJECT} from its template, Sales <-> CDS accounts, "
                 "conflicts settled by a person")
        self.twin.api("POST", "projects", json={
            "name": PROJECT, "template": TEMPLATE, "connections": {"source": "sales", "cds": "cds"},
            "consent": self.consent,
        }).raise_for_status()
        in_cds = len(self.accounts("cds"))
        first = self.sync("link", "full")
        self.check_linked(first, in_cds)
        merged, clashed, name = self.edit_both_sides()
        second = self.sync("merge", "incremental")
        conflict = self.check_merged(second, merged, clashed, name)
        if conflict is None:
            return
        self.resolve(conflict)
        third = self.sync("apply", "incremental")
        self.check_applied(third, clashed, conflict)
        fourth = self.sync("again", "full")
        self.expect(all(leg["written"] == 0 for leg in legs_of(fourth)) and fourth["runtimeStatus"] == "Succeeded",
                    "a full run right after writes nothing either way (no echoes) and succeeds")
        self.say("\nTwo-way runs (GET /api/runs/{runId}):")
        self.table(COLUMNS, self.rows)

    # --- the story --------------------------------------------------------------------------

    def sync(self, label: str, mode: str) -> dict[str, Any]:
        started = self.twin.api("POST", f"projects/{PROJECT}/runs", json={"mode": mode})
        started.raise_for_status()
        run = self.twin.follow(started)
        legs = {leg["leg"]: leg for leg in legs_of(run)}
        conflicts = sum(leg.get("conflicts", 0) for leg in legs.values())
        self.rows.append((label, mode, run["runtimeStatus"],
                          *(legs[leg][count] for leg in LEGS for count in ("read", "written")), conflicts))
        moved = "; ".join(f"{name} read {leg['read']} written {leg['written']}" for name, leg in legs.items())
        self.say(f"  run '{label}' ({mode}): {run['runtimeStatus']}, {moved}, conflicts {conflicts}")
        return run

    def check_linked(self, run: dict[str, Any], in_cds_before: int) -> None:
        sales, cds = self.accounts("sales"), self.accounts("cds")
        to_cds, to_sales = (leg_of(run, leg) for leg in LEGS)
        linked = {folded(n) for n in sales} <= {folded(n) for n in cds}
        self.expect(linked and to_cds["written"] == len(cds) - in_cds_before,
                    f"the first run linked the {in_cds_before} accounts both systems held and created the "
                    f"{to_cds['written']} only Sales held in CDS")
        self.expect(to_sales["written"] == 0 and not self.conflicts("open"),
                    "nothing went back to Sales and nothing conflicts: the pairs agreed")

    def edit_both_sides(self) -> tuple[str, str, str]:
        """Edit two linked accounts on both sides and add one account on each.

        Returns the numbers of the accounts edited (disjoint fields, then the same field) and the
        second one's name before the edits.
        """
        sales = self.accounts("sales")
        merged, clashed = [number for number in sorted(sales) if number.startswith("A-")][200:202]
        self.say("\nPeople edit both systems between runs:")
        self.patch("sales", merged, {"telephone1": PHONE})
        self.patch("cds", merged, {"address1_city": CITY})
        self.say(f"  {merged}: telephone1 changed in Sales, address1_city changed in CDS")
        self.patch("sales", clashed, {"name": sales[clashed]["name"] + " (renamed in Sales)"})
        self.patch("cds", clashed, {"name": sales[clashed]["name"] + " (renamed in CDS)"})
        self.say(f"  {clashed}: name changed in both, to different values")
        self.seed("sales", NEW_IN_SALES)
        self.seed("cds", NEW_IN_CDS)
        self.say(f"  {NEW_IN_SALES['accountnumber']} entered in Sales, {NEW_IN_CDS['accountnumber']} entered in CDS")
        return merged, clashed, sales[clashed]["name"]

    def check_merged(self, run: dict[str, Any], merged: str, clashed: str, name: str) -> dict[str, Any] | None:
        sales, cds = self.accounts("sales"), self.accounts("cds")
        self.expect(sales[merged]["address1_city"] == CITY and cds[merged]["telephone1"] == PHONE
                    and sales[merged]["telephone1"] == PHONE and cds[merged]["address1_city"] == CITY,
                    f"{merged}: the disjoint edits merged, both systems hold both")
        self.expect(NEW_IN_SALES["accountnumber"] in cds and NEW_IN_CDS["accountnumber"] in sales,
                    "each new account was created on the other side")
        self.expect(sales[clashed]["name"].endswith("(renamed in Sales)")
                    and cds[clashed]["name"].endswith("(renamed in CDS)"),
                    f"{clashed}: the clashing names stay as each side wrote them (manual)")
        written = [leg_of(run, leg)["written"] for leg in LEGS]
        self.expect(written == [2, 2] and run["runtimeStatus"] == "Warning",
                    f"the run wrote 2 records each way (to CDS {written[0]}, to Sales {written[1]}) and warns of an "
                    f"open conflict ({run['runtimeStatus']})")
        listed = self.conflicts("open")
        self.say("\nOpen conflicts (GET /api/projects/accounts-two-way/conflicts):")
        self.table(("account", "field", "baseline", "Sales", "CDS"), [
            (c["businessKey"].get("accountnumber"), c["field"], c["baseline"], c["source"]["value"],
             c["cds"]["value"]) for c in listed])
        ok = (len(listed) == 1 and listed[0]["field"] == "name" and listed[0]["baseline"] == name
              and listed[0]["source"]["value"] == sales[clashed]["name"]
              and listed[0]["cds"]["value"] == cds[clashed]["name"])
        of_run = self.paged(f"runs/{run['runId']}/conflicts")
        self.expect(ok and [c["conflictId"] for c in of_run] == [c["conflictId"] for c in listed],
                    f"one conflict listed, on {clashed}'s name, with the baseline and both values, also under its run")
        return listed[0] if ok else None

    def resolve(self, conflict: dict[str, Any]) -> None:
        answer = self.twin.api("POST", f"projects/{PROJECT}/conflicts/{conflict['conflictId']}/resolve",
                               json={"take": "cds"})
        self.say(f"\nA person settles it: POST .../conflicts/{conflict['conflictId'][:8]}…/resolve "
                 f'{{"take": "cds"}} -> {answer.status_code}')
        self.expect(answer.status_code == 200 and answer.json()["state"] == "resolved", "the conflict is resolved")

    def check_applied(self, run: dict[str, Any], clashed: str, conflict: dict[str, Any]) -> None:
        sales, cds = self.accounts("sales"), self.accounts("cds")
        settled = [c for c in self.conflicts("resolved") if c["conflictId"] == conflict["conflictId"]]
        self.expect(sales[clashed]["name"] == cds[clashed]["name"] == conflict["cds"]["value"]
                    and not self.conflicts("open") and [c["state"] for c in settled] == ["applied"],
                    f"{clashed}: the next run took CDS's name into Sales; no conflict is open")
        self.expect(leg_of(run, "cdsToSource")["written"] == 1 and leg_of(run, "sourceToCds")["written"] == 0,
                    "that run wrote exactly the settled record, to Sales")

    # --- the systems and the API ------------------------------------------------------------

    def accounts(self, system: str) -> dict[str, dict[str, Any]]:
        return {r["accountnumber"]: r for r in self.twin.records(system, "accounts")
                if (r.get("accountnumber") or "").strip()}

    def patch(self, system: str, number: str, changes: dict[str, Any]) -> None:
        """Change a record the way a user of the system does (its Web API), so it is stamped and tracked."""
        root = self.twin.systems[system].url + "/api/data/v9.2/"
        key = number.replace("'", "''")
        self.twin.session.patch(f"{root}accounts(accountnumber='{key}')", json=changes, headers={"If-Match": "*"},
                                timeout=30).raise_for_status()

    def seed(self, system: str, record: dict[str, Any]) -> None:
        self.twin.session.post(f"{self.twin.systems[system].url}/_sandbox/records/accounts", json=[record],
                               timeout=30).raise_for_status()

    def conflicts(self, state: str) -> list[dict[str, Any]]:
        return self.paged(f"projects/{PROJECT}/conflicts", state=state)

    def paged(self, path: str, **params: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            answer = self.twin.api("GET", path, params=params)
            answer.raise_for_status()
            page = answer.json()
            found.extend(page["value"])
            if not page.get("continuationToken"):
                return found
            params = {**params, "continuationToken": page["continuationToken"]}


def folded(number: str) -> str:
    """An account number as Dataverse compares it (and so the sync pairs it)."""
    return number.strip().casefold()


def legs_of(run: dict[str, Any]) -> list[dict[str, Any]]:
    return run["tasks"][0]["legs"]


def leg_of(run: dict[str, Any], name: str) -> dict[str, Any]:
    return next(leg for leg in legs_of(run) if leg["leg"] == name)
