"""No secret and no bearer token is ever at rest: not in tables, blobs, Durable state, custom status or logs.

Projects run on the twin through connections that authenticate with a client secret read
from an app setting. Entra is the one thing faked (tests/security/fake_entra.py): for one
tenant it refuses the secret, for the other it issues a token, which Sales accepts and
Operations does not. One run reads Sales with the token into CDS (staging its pages), the
others fail on authentication after the secret was read and the token sent; then everything
the service and its task hub keep or logged is searched for the secret and for bearer tokens.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.orchestrators.conftest import create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account, accounts_project
from tests.security.at_rest import blob_texts, everything
from tests.security.fake_entra import FakeEntra, fake_entra
from twin.local_twin import LocalTwin

SECRET = f"NotARealSecret-{uuid.uuid4().hex}"
SECRET_SETTING = "ENTRA_CLIENT_SECRET"
ISSUED_TOKEN = f"FakeEntraToken.{uuid.uuid4().hex}"
OPERATIONS_TOKEN = f"TheTokenOperationsWants.{uuid.uuid4().hex}"
BEARER = re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]{8,}")
ISSUING_TENANT = "6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e"
REFUSING_TENANT = "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def read_blobs_while_running(twin: LocalTwin, project: str, record: str) -> list[tuple[str, str]]:
    """Sync Now with CDS slowed down, read every blob once `record` is staged, then follow the run to Succeeded.

    The page stays staged while its load waits for CDS: long enough for a scan of every blob of the account,
    which takes longer the more blobs the tests before left (a 1 s wait was missed on a loaded machine)."""
    requests.post(f"{twin.systems['cds'].url}/_sandbox/config", json={"latency_ms": 4000}, timeout=30).raise_for_status()
    try:
        started = twin.api("POST", f"projects/{project}/runs")
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 120
        ours = f"blob {twin.table_prefix.lower()}-"
        while True:
            staged = [found for found in blob_texts(twin.storage) if found[0].startswith(ours)]
            if any(record in text for _, text in staged):
                break
            assert time.monotonic() < deadline, f"the run never staged {record}"
            time.sleep(0.2)
        assert twin.follow(started)["runtimeStatus"] == "Succeeded"
    finally:
        requests.post(f"{twin.systems['cds'].url}/_sandbox/config", json={"latency_ms": 0}, timeout=30)
    return staged


def entra_connection(twin: LocalTwin, system: str, tenant: str) -> dict:
    return {"kind": twin.systems[system].kind, "url": twin.systems[system].url,
            "auth": {"type": "clientSecret", "tenantId": tenant,
                     "clientId": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "secretSetting": SECRET_SETTING}}


@pytest.fixture(scope="module")
def entra() -> Iterator[FakeEntra]:
    with fake_entra(ISSUED_TOKEN, refusing={REFUSING_TENANT}) as started:
        yield started


@pytest.fixture(scope="module")
def secret_twin(storage_connection_string: str, entra: FakeEntra) -> Iterator[LocalTwin]:
    with LocalTwin.start(dataset=False, storage=storage_connection_string, knobs={"operations": {"token": OPERATIONS_TOKEN}},
                         settings={SECRET_SETTING: SECRET, **entra.settings}) as twin:
        twin.connect_all()
        for name, system, tenant in (("sales-token", "sales", ISSUING_TENANT),
                                     ("operations-token", "operations", ISSUING_TENANT),
                                     ("sales-refused", "sales", REFUSING_TENANT)):
            answer = twin.api("PUT", f"connections/{name}", json=entra_connection(twin, system, tenant))
            assert answer.status_code == 201, answer.text
        yield twin


def test_runs_that_fail_on_a_client_secret_leave_neither_secret_nor_token_anywhere(
    secret_twin: LocalTwin, entra: FakeEntra
) -> None:
    twin = secret_twin
    seed(twin, "sales", "accounts", [account(n) for n in range(20)])
    token_accepted = accounts_project("p-token-accepted")
    token_accepted["connections"] = {"source": "sales-token", "cds": "cds"}
    for task in token_accepted["tasks"]:
        del task["destination"], task["cdsToDestination"]
    create_project(twin, token_accepted)
    staged = read_blobs_while_running(twin, "p-token-accepted", "A-00000")
    token_refused = accounts_project("p-token-refused")
    token_refused["connections"].update(source="sales-token", destination="operations-token")
    secret_refused = accounts_project("p-secret-refused")
    secret_refused["connections"].update(source="sales-refused")
    for project, refusal in ((token_refused, "401"), (secret_refused, "invalid_client")):
        create_project(twin, project)
        checked = twin.api("POST", f"projects/{project['name']}/validate")
        assert checked.status_code == 200 and checked.json()["ok"] is False, checked.text
        assert refusal in checked.text, checked.text
        run = sync_now(twin, project["name"])
        assert run["runtimeStatus"] == "Failed" and refusal in run["message"], run

    secrets_sent = {value for form in entra.token_requests for value in form.get("client_secret", [])}
    assert secrets_sent == {SECRET}, "the runs never read the secret: nothing would be found"
    texts = [*staged, *everything(twin)]
    for where, text in texts:
        assert SECRET not in text, f"the client secret is in {where}"
        assert ISSUED_TOKEN not in text and OPERATIONS_TOKEN not in text, f"a token is in {where}"
        assert BEARER.search(text) is None, f"a bearer token is in {where}: {BEARER.search(text)}"
    # what was searched is what holds the runs: the saved connections, the staged records (above), the history
    assert any(SECRET_SETTING in text for where, text in texts if where.startswith("table"))
    assert any("begin_run" in text for where, text in texts if where.startswith("orchestration"))
    assert any("Functions.begin_run" in text for where, text in texts if where == "devhost log")
