"""Microsoft's own Dataverse SDK (`PowerPlatform-Dataverse-Client`) against the sandbox, unpatched.

The SDK accepts only an `https://` environment URL, so the sandbox is reached through a TLS
front on loopback with a self-signed certificate made here at run time; requests trusts it
through `REQUESTS_CA_BUNDLE`, its own seam. The token comes through the SDK's credential
seam: an azure-core `TokenCredential` that hands out a fixed token, so no sign-in and no
network beyond loopback. Every call below is the SDK's public API doing what it does
against the service: metadata first (EntityDefinitions, picklists through a type-cast
segment), then the records.
"""

from __future__ import annotations

import datetime
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.credentials import AccessToken
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.core.errors import HttpError
from PowerPlatform.Dataverse.models.upsert import UpsertItem

from sandbox.dataverse_tls import TlsFront
from sandbox.process import SandboxProcess, start_sandbox

TOKEN = "sdk-conformance-token"
RECORDS = 150


class FixedToken:
    """An azure-core TokenCredential that returns one token, as a signed-in credential would."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day, and its private key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sandbox.localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "sandbox.pem", directory / "sandbox.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certificate_path, key_path


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxProcess]:
    with start_sandbox("dataverse", token=TOKEN, dataset="prospect-to-cash", records=RECORDS) as running:
        yield running


@pytest.fixture(scope="module")
def front(server: SandboxProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TlsFront, Path]]:
    certificate, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    with TlsFront(server.url, certificate, key) as running:
        yield running, certificate


@pytest.fixture
def credential() -> FixedToken:
    return FixedToken(TOKEN)


@pytest.fixture
def client(
    front: tuple[TlsFront, Path], credential: FixedToken, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DataverseClient]:
    running, certificate = front
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with DataverseClient(running.url, credential) as sdk:
        yield sdk


def stored(server: SandboxProcess, entity_set: str) -> list[dict[str, Any]]:
    return requests.get(f"{server.url}/_sandbox/records/{entity_set}", timeout=30).json()


def routes(server: SandboxProcess) -> set[str]:
    """The routes the sandbox has answered so far (its own statistics)."""
    return set(requests.get(f"{server.url}/_sandbox/stats", timeout=30).json()["by_route"])


def test_tables_metadata(client, server, front, credential):
    info = client.tables.get("account")
    assert info is not None
    assert (info["entity_set_name"], info["primary_id_attribute"]) == ("accounts", "accountid")
    tables = {t["LogicalName"] for t in client.tables.list()}
    assert {"account", "contact", "salesorder"} <= tables
    only = client.tables.list(filter="LogicalName eq 'contact'", select=["LogicalName", "EntitySetName"])
    assert [(t["LogicalName"], t["EntitySetName"]) for t in only] == [("contact", "contacts")]
    keys = client.tables.get_alternate_keys("account")
    assert [list(k.key_attributes) for k in keys] == [["accountnumber"]]
    columns = {c["LogicalName"] for c in client.tables.list_columns("account")}
    assert {"name", "accountnumber", "statecode"} <= columns
    assert set(credential.scopes) == {(f"{front[0].url}/.default",)}


def test_read_query_and_page(client, server):
    active = [a for a in stored(server, "accounts") if a["statecode"] == 0]
    pages = list(
        client.records.list_pages(
            "account", select=["name", "accountnumber"], filter="statecode eq 0", orderby=["name asc"], page_size=40
        )
    )
    assert len(pages) == -(-len(active) // 40)
    seen = [record["accountid"] for page in pages for record in page]
    assert sorted(seen) == sorted(a["accountid"] for a in active)
    names = [record["name"] for page in pages for record in page]
    assert names == sorted(names, key=str.casefold)
    first = active[0]
    one = client.records.retrieve("account", first["accountid"], select=["name", "accountnumber"])
    assert (one["name"], one["accountnumber"]) == (first["name"], first["accountnumber"])
    top = client.records.list("account", select=["name"], top=5)
    assert len(list(top)) == 5


def test_create_update_and_delete(client, server):
    created = client.records.create("account", {"name": "Made by the SDK", "accountnumber": "SDK-1", "statecode": 0})
    row = next(a for a in stored(server, "accounts") if a["accountid"] == created)
    assert (row["name"], row["accountnumber"]) == ("Made by the SDK", "SDK-1")

    many = client.records.create("account", [{"name": f"Bulk {i}", "accountnumber": f"SDK-B{i}"} for i in range(4)])
    assert len(many) == 4 and len(set(many)) == 4
    client.records.update("account", created, {"telephone1": "555-0100"})
    client.records.update("account", many, {"description": "updated together"})
    by_id = {a["accountid"]: a for a in stored(server, "accounts")}
    assert by_id[created]["telephone1"] == "555-0100"
    assert all(by_id[i]["description"] == "updated together" for i in many)

    client.records.delete("account", created)
    client.records.delete("account", many, use_bulk_delete=False)
    remaining = {a["accountid"] for a in stored(server, "accounts")}
    assert not remaining & {created, *many}
    assert client.records.retrieve("account", created) is None
    with pytest.raises(HttpError) as missing:
        client.records.delete("account", created)
    assert missing.value.status_code == 404


def test_upsert_by_alternate_key_never_duplicates(client, server):
    items = [
        UpsertItem(alternate_key={"accountnumber": f"UPS-{i}"}, record={"name": f"Upserted {i}"}) for i in range(3)
    ]
    for _ in range(2):
        client.records.upsert("account", items)
    client.records.upsert("account", [UpsertItem(alternate_key={"accountnumber": "UPS-1"}, record={"name": "Renamed"})])
    matching = sorted(
        (a["accountnumber"], a["name"]) for a in stored(server, "accounts") if (a["accountnumber"] or "").startswith("UPS-")
    )
    assert matching == [("UPS-0", "Upserted 0"), ("UPS-1", "Renamed"), ("UPS-2", "Upserted 2")]
    picklists = "GET EntityDefinitions(key)/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
    assert {picklists, "POST accounts/Microsoft.Dynamics.CRM.UpsertMultiple"} <= routes(server)


def test_sql_queries_are_refused_not_answered_with_the_table(client):
    with pytest.raises(HttpError) as refused:
        client.query.sql("SELECT TOP 2 name FROM account")
    assert refused.value.status_code == 400
