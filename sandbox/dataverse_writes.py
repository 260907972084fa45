"""Dataverse writes: body checks, @odata.bind, create, update, upsert and the bulk messages.

Every method runs inside the caller's transaction on the database thread and raises
`ServiceError`s shaped like the service's (see dataverse_errors.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox import dataverse_errors as errors
from sandbox.entities import Entity, FieldError
from sandbox.messages import ServiceError
from sandbox.odata_query import QueryError, parse_key, resolve_key, split_path
from sandbox.storage import VERSION, DuplicateKey, Store, target_column

BULK_ACTIONS = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")
MAX_BULK_TARGETS = 1000


class DataverseWrites:
    """The write side of the Dataverse sandbox."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.entities = store.entities

    # --- bodies -------------------------------------------------------------------------

    def prepare(self, entity: Entity, body: Any, references: Mapping[str, str]) -> dict[str, Any]:
        """Column values from a JSON body: fields checked, bindings resolved to ids."""
        if not isinstance(body, dict):
            raise errors.payload_error(entity, "A JSON object was expected for the entity payload.")
        changes: dict[str, Any] = {}
        for name, value in body.items():
            if name.startswith("@"):
                continue
            prop, _, annotation = name.partition("@")
            if annotation:
                if annotation == "odata.bind":
                    self._bind(entity, prop, value, references, changes)
                continue
            fld = entity.props.get(prop)
            if fld is None:
                raise errors.unknown_property(entity, prop)
            if fld.type == "lookup":
                raise errors.payload_error(
                    entity,
                    "CRM do not support direct update of Entity Reference properties, "
                    "Use Navigation properties instead.",
                )
            if fld.read_only:
                continue
            try:
                changes[fld.prop] = fld.check(value)
            except FieldError as exc:
                raise errors.field_error(entity, exc) from None
        return changes

    def _bind(
        self, entity: Entity, nav: str, value: Any, references: Mapping[str, str], changes: dict[str, Any]
    ) -> None:
        navigation = entity.navigation.get(nav)
        if navigation is None:
            raise errors.unknown_property(entity, nav)
        lookup, target_set = navigation
        if value is None:
            changes[lookup.prop] = None
        else:
            changes[lookup.prop] = self.reference_id(target_set, value, references)
        if len(lookup.targets) > 1:
            changes[target_column(lookup)] = None if value is None else target_set

    def reference_id(self, target_set: str, reference: Any, references: Mapping[str, str]) -> str:
        """The primary id of the record an @odata.bind value points to."""
        target = self.entities[target_set]
        if not isinstance(reference, str):
            raise errors.payload_error(target, f"The value '{reference}' is not a valid entity reference.")
        path = reference.split("/api/data/v9.2/", 1)[-1].lstrip("/")
        if path.startswith("$") and path[1:] in references:
            path = references[path[1:]]
        resource = split_path(path)
        if resource is None or resource.key is None or resource.rest is not None:
            raise errors.payload_error(target, f"The entity reference '{reference}' is not valid.")
        if resource.name != target_set:
            raise errors.payload_error(
                target, f"The entity set '{resource.name}' does not match the navigation target '{target_set}'."
            )
        try:
            values = resolve_key(target, parse_key(resource.key))
        except QueryError as exc:
            raise ServiceError(400, str(exc), errors.QUERY) from None
        row = self.store.find(target, values)
        if row is None:
            raise errors.bind_not_found(target, ",".join(str(v) for v in values.values()))
        return str(row[target.primary_id or ""])

    @staticmethod
    def _check_required(entity: Entity, row: Mapping[str, Any], only: Sequence[str] | None = None) -> None:
        for fld in entity.fields.values():
            if fld.required and (only is None or fld.prop in only) and row.get(fld.prop) in (None, ""):
                raise errors.required_missing(entity, fld.name)

    # --- single records -----------------------------------------------------------------

    def create(self, entity: Entity, values: dict[str, Any]) -> dict[str, Any]:
        self._check_required(entity, values)
        try:
            return self.store.insert(entity, [values])[0]
        except DuplicateKey as exc:
            raise errors.duplicate_key(entity, exc.key.name if exc.key else None, exc.values) from None

    def update(self, entity: Entity, current: Mapping[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        self._check_required(entity, changes, only=list(changes))
        primary = entity.primary_id or ""
        if primary in changes and changes[primary] != current[primary]:
            raise errors.payload_error(entity, "The primary key in the body does not match the record being updated.")
        try:
            return self.store.update(entity, current, changes)
        except DuplicateKey as exc:
            raise errors.duplicate_key(entity, exc.key.name if exc.key else None, exc.values) from None

    def upsert(
        self,
        entity: Entity,
        key: dict[str, Any],
        body: Any,
        *,
        if_match: str | None,
        if_none_match: str | None,
        references: Mapping[str, str],
    ) -> tuple[dict[str, Any], bool]:
        """PATCH on a key: update the record or create it; returns (record, created)."""
        current = self.store.find(entity, key)
        if if_none_match == "*" and current is not None:
            raise errors.already_exists()
        if if_match is not None:
            if current is None:
                raise errors.record_not_found(entity, key)
            if if_match != "*" and if_match.strip() != etag(current):
                raise errors.version_mismatch()
        changes = self.prepare(entity, body, references)
        if current is not None:
            return self.update(entity, current, changes), False
        return self.create(entity, {**changes, **key}), True

    def delete(self, entity: Entity, key: dict[str, Any], if_match: str | None) -> None:
        current = self.store.find(entity, key)
        if current is None:
            raise errors.record_not_found(entity, key)
        if if_match is not None and if_match != "*" and if_match.strip() != etag(current):
            raise errors.version_mismatch()
        self.store.delete(entity, current)

    # --- bulk messages ------------------------------------------------------------------

    def bulk(self, entity: Entity, action: str, body: Any) -> list[str]:
        """Run CreateMultiple / UpdateMultiple / UpsertMultiple; all or nothing. Returns the ids."""
        targets = body.get("Targets") if isinstance(body, dict) else None
        if not isinstance(targets, list) or not targets:
            raise ServiceError(400, "The 'Targets' parameter is required and must be a non-empty array.", errors.QUERY)
        if len(targets) > MAX_BULK_TARGETS:
            raise ServiceError(
                400,
                f"The number of records in Targets ({len(targets)}) exceeds the maximum of {MAX_BULK_TARGETS}.",
                errors.INVALID_ARGUMENT,
            )
        expected = entity.type_name
        ids = []
        for index, target in enumerate(targets):
            try:
                if not isinstance(target, dict) or str(target.get("@odata.type", "")).lstrip("#") != expected:
                    raise errors.payload_error(
                        entity, f"Every record in Targets must have '@odata.type': '{expected}'."
                    )
                ids.append(self._bulk_one(entity, action, target))
            except ServiceError as exc:
                raise ServiceError(
                    exc.status, f"{exc.message} (Targets[{index}]{_describe(entity, target)})", exc.code
                ) from None
        return ids

    def _bulk_one(self, entity: Entity, action: str, target: dict[str, Any]) -> str:
        changes = self.prepare(entity, target, {})
        primary = entity.primary_id or ""
        if action == "CreateMultiple":
            return str(self.create(entity, changes)[primary])
        addressed = self._addressed_key(entity, target.get("@odata.id"))
        if addressed is not None:
            _check_body_agrees(entity, addressed, changes)
            changes = {**changes, **addressed}
        key = addressed or self._body_key(entity, changes)
        current = self.store.find(entity, key) if key else None
        if current is not None:
            return str(self.update(entity, current, changes)[primary])
        if action == "UpdateMultiple":
            raise errors.record_not_found(entity, key or {primary: None})
        return str(self.create(entity, changes)[primary])

    @staticmethod
    def _addressed_key(entity: Entity, reference: Any) -> dict[str, Any] | None:
        """The key an `@odata.id` names: `accounts(accountnumber='A-1')` or `accounts(<id>)`.

        "Use an alternate key to reference a record" and the UpsertMultiple / UpdateMultiple
        action references: a target may name its record with a relative (or absolute) URL
        by primary id or alternate key, in the table's own entity set.
        """
        if reference is None:
            return None
        if not isinstance(reference, str):
            raise errors.payload_error(entity, f"The '@odata.id' value '{reference}' is not a valid entity reference.")
        path = reference.split("/api/data/v9.2/", 1)[-1].lstrip("/")
        resource = split_path(path)
        if resource is None or resource.key is None or resource.rest is not None:
            raise errors.payload_error(entity, f"The '@odata.id' value '{reference}' is not a valid entity reference.")
        if resource.name != entity.entity_set:
            raise errors.payload_error(
                entity, f"The '@odata.id' value '{reference}' does not refer to the entity set '{entity.entity_set}'."
            )
        try:
            return resolve_key(entity, parse_key(resource.key))
        except QueryError as exc:
            raise ServiceError(400, str(exc), errors.QUERY) from None

    @staticmethod
    def _body_key(entity: Entity, changes: Mapping[str, Any]) -> dict[str, Any] | None:
        """How a bulk record finds its match: the primary id, else the first alternate key it carries."""
        primary = entity.primary_id or ""
        if changes.get(primary):
            return {primary: changes[primary]}
        for key in entity.alternate_keys:
            props = [entity.fields[name].prop for name in key.fields]
            if all(changes.get(p) is not None for p in props):
                return {p: changes[p] for p in props}
        return None


def etag(row: Mapping[str, Any]) -> str:
    """The weak ETag of a stored record."""
    return f'W/"{row[VERSION]}"'


def _check_body_agrees(entity: Entity, key: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
    """A key column in the body must not contradict the record the `@odata.id` names."""
    for prop, value in key.items():
        if prop in changes and changes[prop] != value:
            raise errors.payload_error(
                entity, f"The value of '{prop}' in the body does not match the key in '@odata.id'."
            )


def _describe(entity: Entity, target: Any) -> str:
    if not isinstance(target, dict):
        return ""
    names = [entity.primary_id or "", *(n for k in entity.alternate_keys for n in k.fields)]
    shown = [f"{n}={target[n]!r}" for n in dict.fromkeys(names) if target.get(n) is not None]
    if not shown and isinstance(target.get("@odata.id"), str):
        shown = [f"@odata.id={target['@odata.id']!r}"]
    return f": {', '.join(shown)}" if shown else ""
