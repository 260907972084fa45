"""Entity names are checked against the system each one lives in when a project is saved."""

from __future__ import annotations

import pytest

from shared.entity_names import check_entity_names
from shared.errors import InvalidInput
from shared.models import Connection, ProjectDefinition

DATAVERSE = Connection.model_validate(
    {"kind": "dataverse", "url": "https://org.crm.dynamics.com", "auth": {"type": "managedIdentity"}}
)
BLOB = Connection.model_validate(
    {"kind": "blob", "url": "https://acct.blob.core.windows.net/files", "auth": {"type": "managedIdentity"}}
)
FINOPS = Connection.model_validate(
    {"kind": "finops", "url": "https://ops.operations.dynamics.com", "auth": {"type": "managedIdentity"}}
)


def project(source: str, destination: str) -> ProjectDefinition:
    task = {
        "name": "Accounts",
        "source": {"entity": source, "key": ["accountnumber"]},
        "cds": {"entity": "accounts", "key": ["accountnumber"]},
        "destination": {"entity": destination, "key": ["CustomerAccount"]},
        "sourceToCds": [{"source": "accountnumber", "target": "accountnumber"}],
        "cdsToDestination": [{"source": "accountnumber", "target": "CustomerAccount"}],
    }
    return ProjectDefinition.model_validate(
        {"name": "p", "connections": {"source": "s", "cds": "c", "destination": "d"}, "tasks": [task]}
    )


def test_blob_files_take_paths_and_odata_systems_identifiers() -> None:
    check_entity_names(project("imports/accounts.csv", "exports/accounts/"), {"source": BLOB, "cds": DATAVERSE,
                                                                             "destination": BLOB})
    check_entity_names(project("accounts", "CustomersV3"), {"source": DATAVERSE, "cds": DATAVERSE,
                                                            "destination": FINOPS})


@pytest.mark.parametrize(
    ("source", "destination", "field"),
    [
        ("imports/accounts.csv", "CustomersV3", "tasks.0.source.entity"),
        ("accounts", "exports/customers/", "tasks.0.destination.entity"),
        ("accounts", "Customers.V3", "tasks.0.destination.entity"),
        ("accounts-2", "CustomersV3", "tasks.0.source.entity"),
    ],
)
def test_a_path_on_an_odata_system_is_refused_naming_the_entity(source: str, destination: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_entity_names(project(source, destination), {"source": DATAVERSE, "cds": DATAVERSE,
                                                          "destination": FINOPS})
    assert raised.value.field == field


def header_project(header: str, entity: str = "imports/accounts.csv") -> ProjectDefinition:
    task = {
        "name": "Accounts",
        "source": {"entity": entity, "key": [header]},
        "cds": {"entity": "accounts", "key": ["accountnumber"]},
        "sourceToCds": [
            {"source": header, "target": "accountnumber"},
            {"target": "name", "transforms": [{"transformType": "Concat", "parts": [{"field": header}]}]},
        ],
    }
    return ProjectDefinition.model_validate({"name": "p", "connections": {"source": "s", "cds": "c"},
                                             "tasks": [task]})


def test_a_file_header_of_any_text_is_a_field_of_blob_files_and_refused_on_an_odata_side() -> None:
    check_entity_names(header_project("Account Number"), {"source": BLOB, "cds": DATAVERSE})
    check_entity_names(header_project("e-mail Straße"), {"source": BLOB, "cds": DATAVERSE})

    with pytest.raises(InvalidInput) as raised:
        check_entity_names(header_project("Account Number", "accounts"), {"source": DATAVERSE, "cds": DATAVERSE})
    assert raised.value.field == "tasks.0.source.key.0"


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"source": "name", "target": "account name"}, "tasks.0.sourceToCds.1.target"),
        ({"target": "name", "transforms": [{"transformType": "Concat", "parts": [{"field": "first name"}]}]},
         "tasks.0.sourceToCds.1.transforms.0.parts.0.field"),
    ],
)
def test_each_field_is_checked_against_the_system_of_its_side(mapping: dict, field: str) -> None:
    task = {"name": "Accounts", "source": {"entity": "accounts", "key": ["accountnumber"]},
            "cds": {"entity": "accounts", "key": ["accountnumber"]},
            "sourceToCds": [{"source": "accountnumber", "target": "accountnumber"}, mapping]}
    definition = ProjectDefinition.model_validate({"name": "p", "connections": {"source": "s", "cds": "c"},
                                                   "tasks": [task]})
    with pytest.raises(InvalidInput) as raised:
        check_entity_names(definition, {"source": DATAVERSE, "cds": DATAVERSE})
    assert raised.value.field == field


@pytest.mark.parametrize("name", ["a\nb", "a\x7fb", "a..b", ".a", "a@b c", "a'b", "a,b", "a(b)", "a&b", "a/b"])
def test_no_system_takes_control_characters_delimiters_or_empty_path_parts(name: str) -> None:
    with pytest.raises(ValueError):
        header_project(name)
