"""Projects in real tables: create, read with ETags, replace only when current, large definitions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.data.tables import TableClient, UpdateMode

from shared.errors import AlreadyExists, InvalidInput, NotFound, StaleETag
from shared.models import ConsentRecord, ProjectDefinition
from shared.projects import Projects
from shared.settings import StorageSettings
from shared.store import Store
from shared.store.projects import UnreadableProject


def definition(
    name: str = "accounts-sales-to-operations", value_map: dict[str, Any] | None = None
) -> ProjectDefinition:
    return ProjectDefinition.model_validate(
        {
            "name": name,
            "connections": {"source": "sales", "cds": "cds", "destination": "operations"},
            "companyCode": "USMF",
            "tasks": [
                {
                    "name": "Accounts",
                    "source": {"entity": "accounts", "key": ["accountnumber"], "filter": "statecode eq 0"},
                    "cds": {"entity": "accounts", "key": ["accountnumber"]},
                    "destination": {"entity": "CustomersV3", "key": ["dataAreaId", "CustomerAccount"]},
                    "sourceToCds": [
                        {"source": "accountnumber", "target": "accountnumber"},
                        {
                            "source": "address1_country",
                            "target": "address1_country",
                            "transforms": [
                                {"transformType": "ValueMap", "valueMap": value_map or {"us": "US", "usa": "US"}}
                            ],
                        },
                        {
                            "target": "customertypecode",
                            "transforms": [{"transformType": "Default", "defaultValue": "Organization"}],
                        },
                    ],
                    "cdsToDestination": [
                        {"source": "accountnumber", "target": "CustomerAccount"},
                        {"source": "name", "target": "OrganizationName"},
                        {
                            "target": "CustomerGroupId",
                            "transforms": [{"transformType": "Default", "defaultValue": "10"}],
                        },
                    ],
                }
            ],
        }
    )


def test_create_then_get_returns_the_definition_and_its_etag(store: Store) -> None:
    etag = store.projects.create(definition())
    assert store.projects.get("accounts-sales-to-operations") == (definition(), etag)


def test_a_taken_name_is_refused(store: Store) -> None:
    store.projects.create(definition())
    with pytest.raises(AlreadyExists) as raised:
        store.projects.create(definition())
    assert raised.value.field == "name"


def test_list_is_sorted_by_name_with_etags(store: Store) -> None:
    etags = {name: store.projects.create(definition(name)) for name in ["orders", "Accounts", "invoices"]}
    listed = store.projects.list()
    assert [(d.name, etag) for d, etag in listed] == [(n, etags[n]) for n in sorted(etags)]


def test_replace_with_the_current_etag_wins_and_a_stale_one_changes_nothing(store: Store) -> None:
    first = store.projects.create(definition())
    changed = definition(value_map={"us": "US", "usa": "US", "united states": "US"})
    second = store.projects.replace(changed, if_match=first)
    assert second != first
    with pytest.raises(StaleETag):
        store.projects.replace(definition(value_map={"de": "DE"}), if_match=first)
    assert store.projects.get(changed.name) == (changed, second)


@pytest.mark.parametrize("sent", ['"stale-etag"', "garbage", "*x", "*", "", 'W/"datetime\'2020-01-01T00%3A00%3A00Z\'"'])
def test_an_etag_storage_did_not_give_for_the_current_version_is_stale_and_never_reaches_storage(
    store: Store, sent: str
) -> None:
    etag = store.projects.create(definition())
    changed = definition().model_copy(update={"description": "never saved"})
    with pytest.raises(StaleETag):
        store.projects.replace(changed, sent)
    with pytest.raises(StaleETag):
        store.projects.delete(changed.name, if_match=sent)
    assert store.projects.get(changed.name) == (definition(), etag)


def test_replace_of_a_missing_project_is_not_found(store: Store) -> None:
    etag = store.projects.create(definition("other"))
    with pytest.raises(NotFound):
        store.projects.replace(definition(), if_match=etag)


def test_delete_with_a_stale_etag_keeps_the_project(store: Store) -> None:
    first = store.projects.create(definition())
    second = store.projects.replace(definition(value_map={"de": "DE"}), if_match=first)
    with pytest.raises(StaleETag):
        store.projects.delete("accounts-sales-to-operations", if_match=first)
    store.projects.delete("accounts-sales-to-operations", if_match=second)
    with pytest.raises(NotFound):
        store.projects.get("accounts-sales-to-operations")
    with pytest.raises(NotFound):
        store.projects.delete("accounts-sales-to-operations")


def test_an_injection_attempt_in_a_name_finds_nothing(store: Store) -> None:
    store.projects.create(definition("real"))
    with pytest.raises(NotFound):
        store.projects.get("x' or PartitionKey ne '")
    assert [d.name for d, _ in store.projects.list()] == ["real"]


def test_a_definition_over_64_kib_round_trips(store: Store) -> None:
    value_map = {f"Ländercode {n:05d} ✓": f"Wert-{n:05d}-🚀" for n in range(4000)}
    large = definition(value_map=value_map)
    assert len(large.model_dump_json().encode()) > 2 * 64 * 1024
    etag = store.projects.create(large)
    assert store.projects.get(large.name) == (large, etag)
    smaller = definition()
    store.projects.replace(smaller, if_match=etag)
    assert store.projects.get(large.name)[0] == smaller


def test_a_definition_too_large_for_one_entity_is_refused_and_not_stored(store: Store) -> None:
    huge = definition(value_map={f"code-{n:05d}": "x" * 100 for n in range(9_000)})
    with pytest.raises(InvalidInput) as raised:
        store.projects.create(huge)
    assert raised.value.field == "tasks"
    with pytest.raises(NotFound):
        store.projects.get(huge.name)


def test_deleting_a_project_keeps_its_consent(store: Store) -> None:
    project = definition()
    etag = store.projects.create(project)
    record = ConsentRecord.model_validate(
        {
            "project": project.name,
            "acceptedBy": "admin@contoso.com",
            "acceptedAt": "2024-05-01T12:00:00Z",
            "noticeVersion": "2024-01",
            "systems": project.systems(),
            "definitionHash": "sha256:abc",
        }
    )
    store.consents.append(record)
    store.projects.delete(project.name, if_match=etag)
    assert store.consents.list(project.name) == [record]


def store_unreadable(storage: StorageSettings, name: str) -> None:
    """Overwrite `name` in storage with what the service once accepted: a default nested 200 deep."""
    deep = "Organization"
    for _ in range(200):
        deep = [deep]
    text = definition(name).model_dump_json(by_alias=True).replace('"Organization"', json.dumps(deep))
    assert storage.connection_string is not None
    table = TableClient.from_connection_string(storage.connection_string, storage.table_prefix + "projects")
    with table:
        table.upsert_entity({"PartitionKey": "project", "RowKey": name, "Json0": text}, mode=UpdateMode.REPLACE)


def test_an_unreadable_project_is_left_out_of_the_list_and_can_still_be_deleted(
    store: Store, storage: StorageSettings
) -> None:
    store.projects.create(definition("readable"))
    store.projects.create(definition("unreadable"))
    store_unreadable(storage, "unreadable")

    assert [project.name for project, _ in store.projects.list()] == ["readable"]
    with pytest.raises(UnreadableProject) as raised:
        store.projects.get("unreadable")
    assert (raised.value.status, raised.value.field) == (409, "name")

    Projects(store).delete("unreadable")
    with pytest.raises(NotFound):
        store.projects.etag("unreadable")
    assert [project.name for project, _ in store.projects.list()] == ["readable"]
