"""Creating, changing and deleting projects, with consent recorded first and kept forever.

A project exists only with consent. Its consent record names who accepted which notice
version for which systems and regions, with a hash of the definition they saw. Changing
the systems (or their direction: a task made bidirectional writes to the source) needs fresh
consent; changing mappings does not. The same rule holds when a connection changes under its
projects (`Projects.reconnect`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.connectors.base import Connector
from shared.entity_names import check_entity_names
from shared.errors import ConsentRequired, InvalidInput, NotFound, RunActive
from shared.models import Connection, Consent, ConsentRecord, ProjectDefinition, ProjectRequest
from shared.store import Store
from shared.store.projects import UnreadableProject
from shared.templates import template
from shared.validation import check_filters, connections_of


def require_consent(body: dict[str, Any]) -> Consent:
    """The accepted consent in a request body, or ConsentRequired (422) naming what is wrong."""
    raw = body.get("consent")
    if raw is None:
        raise ConsentRequired("consent is required before a project can exist", field="consent")
    if not isinstance(raw, dict) or raw.get("accepted") is not True:
        raise ConsentRequired("consent must be accepted (accepted: true)", field="consent.accepted")
    return Consent.model_validate(raw)


def consent_for_change(before: list[str], after: list[str], given: Any) -> Consent | None:
    """The consent to record for a change of systems from `before` to `after`, or None when there is none to record.

    Different systems need an accepted consent (ConsentRequired otherwise); a consent given
    for the same systems is checked and recorded all the same.
    """
    if before == after and given is None:
        return None
    return require_consent({"consent": given})


def definition_from_request(request: ProjectRequest) -> ProjectDefinition:
    """The project a request describes: its own tasks, or the tasks of the template it names."""
    fields = request.model_dump(exclude={"consent"}, exclude_none=True)
    if request.template is not None:
        base = template(request.template)
        fields["tasks"] = [task.model_dump(exclude_none=True) for task in base.tasks]
        fields.setdefault("description", base.description)
        if base.companyCode and "companyCode" not in fields:
            fields["companyCode"] = base.companyCode
    return ProjectDefinition.model_validate({k: v for k, v in fields.items() if v is not None})


def definition_hash(definition: ProjectDefinition) -> str:
    canonical = json.dumps(definition.model_dump(mode="json", exclude_none=True), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Projects:
    """The project lifecycle over a Store; `connectors` (when given) lets a save check filters against the source."""

    def __init__(self, store: Store, connectors: Callable[[Connection], Connector] | None = None) -> None:
        self._store = store
        self._connectors = connectors

    def systems(self, definition: ProjectDefinition, changed: dict[str, Connection] | None = None) -> list[str]:
        """`role=name (kind url)` for each connection, in flow order; unknown connections are errors. A source that
        two-way tasks write to says so (`, written back`): records flowing into it are a change of direction.

        `changed` holds connections by name as they are about to be saved, in place of the stored ones.
        """
        written_back = any(task.bidirectional for task in definition.tasks)
        described = []
        for role in ("source", "cds", "destination"):
            name = getattr(definition.connections, role)
            if name is None:
                continue
            try:
                connection = (changed or {}).get(name) or self._store.connections.get(name)
            except NotFound:
                raise InvalidInput(f"no connection called {name!r}", field=f"connections.{role}") from None
            flow = ", written back" if role == "source" and written_back else ""
            described.append(f"{role}={name} ({connection.kind} {connection.url}{flow})")
        return described

    def create(self, body: dict[str, Any], now: datetime) -> tuple[ProjectDefinition, str]:
        consent = require_consent(body)
        definition = definition_from_request(ProjectRequest.model_validate(body))
        record = self._consent_record(definition, consent, now)
        check_entity_names(definition, connections_of(self._store, definition))
        self._check_filters(definition)
        etag = self._store.projects.create(definition)
        try:
            self._store.consents.append(record)
        except Exception:
            self._store.projects.delete(definition.name, if_match=etag)
            raise
        return definition, etag

    def replace(self, name: str, body: dict[str, Any], if_match: str, now: datetime) -> tuple[ProjectDefinition, str]:
        """Customize a project; new systems or a new direction need an accepted consent in the body."""
        current, _ = self._store.projects.get(name)
        body = {**body, "name": name}
        consent_given = body.pop("consent", None)
        definition = ProjectDefinition.model_validate(body)
        record = None
        consent = consent_for_change(self.systems(current), self.systems(definition), consent_given)
        if consent is not None:
            record = self._consent_record(definition, consent, now)
        check_entity_names(definition, connections_of(self._store, definition))
        self._check_filters(definition)
        etag = self._store.projects.replace(definition, if_match)
        if record is not None:
            self._store.consents.append(record)
        return definition, etag

    def reconnect(self, name: str, connection: Connection, consent_given: Any, now: datetime) -> list[ConsentRecord]:
        """The consent records saving `connection` as `name` needs, one per project whose systems it changes.

        A new kind or URL (and with it the region) changes the systems of every project that uses
        the connection: without an accepted consent that is ConsentRequired naming them all.
        Records come back to be kept before the connection is saved; nothing is written here.
        """
        users = [definition for definition, _ in self._store.projects.list() if name in definition.systems()]
        changes = [(d, self.systems(d), self.systems(d, {name: connection})) for d in users]
        records = []
        try:
            for definition, before, after in changes:
                consent = consent_for_change(before, after, consent_given)
                if consent is not None:
                    records.append(self._consent_record(definition, consent, now, after))
        except ConsentRequired as refused:
            changed = ", ".join(d.name for d, before, after in changes if before != after)
            if not changed:
                raise
            raise ConsentRequired(
                f"{refused.message}: connection {name!r} changes the systems of project(s) {changed}",
                field=refused.field,
            ) from None
        return records

    def delete(self, name: str) -> None:
        """Delete the project and what its runs left; its consent records stay, as promised.

        The project's run lock is held meanwhile, so no run starts while its data goes, and the
        data goes first: a deletion cut short leaves the project in place to be deleted again.
        """
        self._store.projects.etag(name)  # NotFound, also for a project whose document cannot be read
        holder = self._store.run_lock.holder(name)
        if holder is not None:
            raise RunActive(name, holder)
        deletion = f"deleting-{uuid.uuid4().hex}"
        self._store.run_lock.acquire(name, deletion)
        try:
            self._forget_data(name)
            self._store.projects.delete(name)
        finally:
            self._store.run_lock.release(name, deletion)

    def _forget_data(self, name: str) -> None:
        """Error records and staged pages of every run, incremental state and key maps of the project, and the
        baselines and conflicts of its two-way tasks."""
        for run_id in self._store.runs.run_ids(name):
            self._store.errors.delete_run(run_id)
            self._store.staging.delete_run(run_id)
        self._store.task_state.clear(name)
        self._store.key_maps.delete_project(name)
        for task in self._two_way_tasks(name):
            self._store.baselines.delete_task(name, task)
        self._store.conflicts.delete_project(name)

    def _two_way_tasks(self, name: str) -> list[str]:
        """The names of the project's bidirectional tasks, as its definition now has them (none when it cannot be
        read: such a project never ran as it is stored)."""
        try:
            definition, _ = self._store.projects.get(name)
        except UnreadableProject:
            return []
        return [task.name for task in definition.tasks if task.bidirectional]

    def _check_filters(self, definition: ProjectDefinition) -> None:
        if self._connectors is not None and any(task.source.filter for task in definition.tasks):
            check_filters(definition, connections_of(self._store, definition), self._connectors)

    def _consent_record(
        self, definition: ProjectDefinition, consent: Consent, now: datetime, systems: list[str] | None = None
    ) -> ConsentRecord:
        return ConsentRecord(
            project=definition.name,
            acceptedBy=consent.acceptedBy,
            acceptedAt=now,
            noticeVersion=consent.noticeVersion,
            systems=self.systems(definition) if systems is None else systems,
            dataResidency=consent.dataResidency,
            definitionHash=definition_hash(definition),
        )
