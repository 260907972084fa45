"""A Dataverse client nobody here wrote (`dataverse-api` from PyPI) reads and writes the sandbox.

The client takes an authenticated `requests.Session`; giving it one that carries the bearer
token is the seam it offers, so no MSAL and no network beyond loopback are involved. On
construction it reads the table's metadata (EntityDefinitions, Keys, relationships, and the
sdkmessagefilters that say CreateMultiple is supported), then uses the paging, CreateMultiple,
$batch upserts by alternate key and DELETE exactly as it would against the service.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from dataverse_api import DataverseClient
from dataverse_api.errors import DataverseAPIError

from sandbox.process import SandboxProcess, start_sandbox

TOKEN = "third-party-token"


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxProcess]:
    with start_sandbox("dataverse", token=TOKEN, dataset="prospect-to-cash", records=120) as running:
        yield running


def records(server: SandboxProcess, entity_set: str) -> list[dict]:
    return requests.get(f"{server.url}/_sandbox/records/{entity_set}").json()


def test_dataverse_api_reads_and_writes_against_the_sandbox(server):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    client = DataverseClient(session=session, environment_url=server.url + "/")
    accounts = client.entity(logical_name="account")
    assert accounts.entity_set_name == "accounts"
    assert accounts.primary_id_attr == "accountid"
    assert accounts.alternate_keys == {"accountnumber_key": ["accountnumber"]}
    assert accounts.supports_create_multiple and accounts.supports_update_multiple
    assert "primarycontactid" in accounts.relationships.single_valued

    active = accounts.read(select=["name", "accountnumber"], filter="statecode eq 0", page_size=25)
    expected = [a for a in records(server, "accounts") if a["statecode"] == 0]
    assert sorted(a["accountid"] for a in active) == sorted(a["accountid"] for a in expected)

    created = accounts.create(
        data=[{"name": "Created by dataverse-api", "accountnumber": f"DV-{i}"} for i in range(3)],
        mode="multiple",
    )
    assert [r.status_code for r in created] == [200]

    upserted = accounts.upsert(
        data=[
            {"accountnumber": "DV-0", "name": "Upserted in a batch"},
            {"accountnumber": "DV-NEW", "name": "Inserted in a batch"},
        ],
        altkey_name="accountnumber_key",
        mode="batch",
    )
    assert [r.status_code for r in upserted] == [200]
    assert upserted[0].text.count("HTTP/1.1 204") == 2

    by_number = {a["accountnumber"]: a for a in records(server, "accounts")}
    assert by_number["DV-0"]["name"] == "Upserted in a batch"
    assert by_number["DV-1"]["name"] == "Created by dataverse-api"
    assert by_number["DV-NEW"]["name"] == "Inserted in a batch"

    accounts.delete(ids=[by_number["DV-1"]["accountid"]])
    assert "DV-1" not in {a["accountnumber"] for a in records(server, "accounts")}

    unauthenticated = DataverseClient(session=requests.Session(), environment_url=server.url + "/")
    with pytest.raises(DataverseAPIError) as refused:
        unauthenticated.entity(logical_name="account")
    assert refused.value.response.status_code == 401
