"""What the steps of one run share: its project snapshot, its legs, connectors and compiled mappings.

The snapshot is taken when the run begins, so a project edited mid-run does not change the
run. A process keeps the workspaces of its recent runs, so the many load activities of a run
compile each mapping and open each connector once. A leg's connectors are scoped to the
project's company (`Connector.scoped`), and its mapping writes the values that scope fixes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from shared.connectors.base import Connector
from shared.errors import InvalidInput
from shared.filters import Filter, parse_filter
from shared.mapping import CompiledMapping, MappedRecord, compile_mapping, is_blank, key_identity
from shared.models import ConcatTransform, Connection, Leg, LookupTransform, ProjectDefinition, Task
from shared.store import Store
from shared.store.run_staging import Superseded
from shared.sync.lookups import LookupCache

SNAPSHOT = "project"
ConnectorFactory = Callable[[Connection], Connector]


@dataclass(frozen=True)
class LegPlan:
    """One leg of one task, with where it reads, where it writes and how it maps."""

    task: Task
    leg: Leg
    source_role: str
    target_role: str
    source: Connector
    target: Connector
    mapping: CompiledMapping
    lookups: LookupCache
    """The run's resolved `Lookup` references in the target system, shared by the legs writing there."""

    @cached_property
    def source_filter(self) -> Filter | None:
        """The task's filter, evaluated on every record read (those it leaves out are skipped as `filtered`)."""
        return parse_filter(self.leg.source.filter) if self.leg.source.filter else None

    @cached_property
    def lookup_fields(self) -> tuple[str, ...]:
        """The targets whose mapping ends in a `Lookup` (their values are resolved before writing)."""
        return tuple(m.target for m in self.leg.mappings
                     if any(isinstance(t, LookupTransform) for t in m.transforms))

    @property
    def key(self) -> list[str]:
        return self.leg.target.key

    @property
    def key_mapped(self) -> bool:
        """Targets are found through the key map (by source id), not by a business key."""
        return self.leg.match == "keyMap"

    @cached_property
    def modified_field(self) -> str | None:
        """The field saying when a source record last changed: the task's choice, else the system's own.

        None for sources whose records do not say (files): their pages carry each record's time.
        """
        return self.leg.source.modifiedField or self.source.describe(self.leg.source.entity).modified_field

    def source_id(self, record: dict[str, Any]) -> str | None:
        value = record.get(self.leg.source.key[0])
        return None if is_blank(value) else str(value)

    def identity(self, record: dict[str, Any], outcome: MappedRecord) -> list[Any] | None:
        """What makes two records of a run the same one: the source id with a key map, else the business key."""
        if self.key_mapped:
            source_id = self.source_id(record)
            return None if source_id is None else [source_id]
        return list(key_identity(outcome.key))

    def source_query(self) -> tuple[list[str] | None, dict[str, list[str]]]:
        """What to read: the fields to `$select` (None: all of them) and the lookups to `$expand`.

        A dotted path `nav.field` reads `field` of the record that the lookup `nav` points to.
        An annotated path (`…@OData.Community.Display.V1.FormattedValue`) needs every field.
        """
        paths = [m.source for m in self.leg.mappings if m.source is not None]
        paths += [p.field for m in self.leg.mappings for t in m.transforms if isinstance(t, ConcatTransform)
                  for p in t.parts if p.field is not None]
        if self.source_filter is not None:
            paths += [path.replace("/", ".") for path in sorted(self.source_filter.paths)]
        if any("@" in p for p in paths):
            return None, {}
        expand: dict[str, set[str]] = {}
        for path in paths:
            if "." in path:
                nav, field = path.split(".", 1)
                expand.setdefault(nav, set()).add(field.split(".", 1)[0])
        select = {p for p in paths if "." not in p} | {k for k in self.leg.source.key if "@" not in k}
        if self.modified_field is not None:
            select.add(self.modified_field)
        return sorted(select), {nav: sorted(fields) for nav, fields in expand.items()}


class RunWorkspace:
    """The snapshot of a run's project and connections, and what is derived from it."""

    def __init__(self, run_id: str, snapshot: dict[str, Any], connectors: ConnectorFactory) -> None:
        self.run_id = run_id
        self.project = ProjectDefinition.model_validate(snapshot["project"])
        self.connections = {role: Connection.model_validate(c) for role, c in snapshot["connections"].items()}
        self._connectors = connectors
        self._legs: dict[tuple[str, str], LegPlan] = {}
        self._lookups: dict[str, LookupCache] = {}
        self._lock = threading.Lock()
        self.superseded: dict[tuple[str, str, int], Superseded] = {}
        """The superseded records of each (task, leg, page group) the run's load steps read (shared/sync/load.py)."""

    @cached_property
    def tasks(self) -> dict[str, Task]:
        return {task.name: task for task in self.project.tasks}

    def leg(self, task_name: str, leg_name: str) -> LegPlan:
        with self._lock:
            plan = self._legs.get((task_name, leg_name))
            if plan is None:
                plan = self._legs[(task_name, leg_name)] = self._plan(task_name, leg_name)
            return plan

    def _plan(self, task_name: str, leg_name: str) -> LegPlan:
        task = self.tasks.get(task_name)
        if task is None:
            raise InvalidInput(f"run {self.run_id} has no task {task_name!r}", field="task")
        leg = next((leg for leg in task.legs() if leg.name == leg_name), None)
        if leg is None:
            raise InvalidInput(f"task {task_name!r} has no leg {leg_name!r}", field="leg")
        source_role, target_role = leg.roles()
        target = self.connector(target_role)
        return LegPlan(
            task=task, leg=leg, source_role=source_role, target_role=target_role,
            source=self.connector(source_role), target=target,
            mapping=compile_mapping(leg.mappings, [] if leg.match == "keyMap" else leg.target.key,
                                    target.fixed_values),
            lookups=self._lookups.setdefault(target_role, LookupCache()),
        )

    def connector(self, role: str) -> Connector:
        """The connector of the project's `role` connection, scoped to the project's company."""
        if role not in self.connections:
            raise InvalidInput(f"the project has no {role} connection", field=f"connections.{role}")
        return self._connectors(self.connections[role]).scoped(self.project.companyCode)


def take_snapshot(store: Store, run_id: str, project: ProjectDefinition) -> dict[str, Any]:
    """Freeze the project and its connections (references only, never secrets) for this run."""
    connections = {role: store.connections.get(name).model_dump(mode="json", exclude_none=True)
                   for role, name in project.connections.by_role().items()}
    snapshot = {"project": project.model_dump(mode="json", exclude_none=True), "connections": connections}
    store.staging.write_document(run_id, SNAPSHOT, snapshot)
    return snapshot


class Workspaces:
    """The workspaces of a process's recent runs, built on first use."""

    def __init__(self, store: Store, connectors: ConnectorFactory, keep: int = 8) -> None:
        self.store = store
        self._connectors = connectors
        self._keep = keep
        self._recent: OrderedDict[str, RunWorkspace] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run_id: str) -> RunWorkspace:
        with self._lock:
            found = self._recent.get(run_id)
            if found is not None:
                self._recent.move_to_end(run_id)
                return found
        workspace = RunWorkspace(run_id, self.store.staging.read_document(run_id, SNAPSHOT), self._connectors)
        with self._lock:
            self._recent[run_id] = workspace
            while len(self._recent) > self._keep:
                self._recent.popitem(last=False)
        return workspace
