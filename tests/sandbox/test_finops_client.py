"""An F&O client nobody here wrote (`d365fo-client` 0.3.7) runs its default path against the sandbox, unpatched.

The client needs Python 3.13 by its metadata but runs on 3.11; `make setup` installs it, with
its own pins, into `.venv-fo/` (requirements-d365fo.txt), so it runs here as a subprocess
(tests/sandbox/finops_client_scenario.py) in that interpreter.

Sign-in goes through the client's own seam: with no credential source configured it uses
azure-identity's DefaultAzureCredential, which takes a managed identity from the
`IDENTITY_ENDPOINT`/`IDENTITY_HEADER` environment (App Service's token endpoint); the test serves
that endpoint on loopback and the sandbox requires the token it hands out. The client skips
sign-in for URLs naming localhost or 127.0.0.1, so the sandbox is reached through a relay on
127.0.0.2, still loopback. Nothing else is reached.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseRequestHandler, ThreadingTCPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.process import SandboxProcess, start_sandbox

ROOT = Path(__file__).resolve().parents[2]
CLIENT_PYTHON = ROOT / ".venv-fo" / "bin" / "python"
SCENARIO = Path(__file__).with_name("finops_client_scenario.py")
TOKEN = "token-from-managed-identity"
IDENTITY_HEADER = "identity-header-secret"
RECORDS = 60


class _TokenEndpoint(BaseHTTPRequestHandler):
    """App Service's managed identity endpoint: a bearer token for `resource`, if the header matches."""

    resources: list[str]

    def do_GET(self) -> None:
        if self.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            self.send_error(401)
            return
        resource = parse_qs(urlsplit(self.path).query).get("resource", [""])[0]
        self.server.resources.append(resource)  # type: ignore[attr-defined]
        body = json.dumps(
            {"access_token": TOKEN, "expires_on": "4102444800", "resource": resource, "token_type": "Bearer"}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what was asked from `resources`."""


class _RelayServer(ThreadingTCPServer):
    """Listens on 127.0.0.2 and relays every connection to `target`."""

    daemon_threads = True

    def __init__(self, target: tuple[str, int]) -> None:
        super().__init__(("127.0.0.2", 0), _Relay)
        self.target = target


class _Relay(BaseRequestHandler):
    """Copies one connection both ways to the sandbox."""

    def handle(self) -> None:
        assert isinstance(self.server, _RelayServer)
        upstream = socket.create_connection(self.server.target)
        with upstream:
            back = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
            back.start()
            _pump(self.request, upstream)
            back.join()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    # A peer that resets its side ends this direction; the other side is then told with a half-close.
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with start_sandbox(
        "finops", token=TOKEN, dataset="prospect-to-cash", records=RECORDS, companies=["usmf", "usrt"]
    ) as running:
        yield running


@pytest.fixture(scope="module")
def relay_url(sandbox: SandboxProcess) -> Iterator[str]:
    target = urlsplit(sandbox.url)
    with _RelayServer((str(target.hostname), int(target.port or 80))) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.2:{server.server_address[1]}"
        server.shutdown()


@pytest.fixture(scope="module")
def token_endpoint() -> Iterator[ThreadingHTTPServer]:
    with ThreadingHTTPServer(("127.0.0.1", 0), _TokenEndpoint) as server:
        server.resources = []  # type: ignore[attr-defined]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server
        server.shutdown()


def run_client(base_url: str, token_server: ThreadingHTTPServer, cache_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
    env.update(
        {
            "HOME": str(cache_dir),
            "IDENTITY_ENDPOINT": f"http://127.0.0.1:{token_server.server_address[1]}/msi/token",
            "IDENTITY_HEADER": IDENTITY_HEADER,
            "NO_PROXY": "*",
        }
    )
    done = subprocess.run(
        [str(CLIENT_PYTHON), str(SCENARIO), base_url, str(cache_dir / "metadata")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def records(sandbox: SandboxProcess) -> list[dict]:
    return requests.get(f"{sandbox.url}/_sandbox/records/CustomersV3", timeout=30).json()


def test_d365fo_client_default_path_against_the_sandbox(sandbox, relay_url, token_endpoint, tmp_path):
    if not CLIENT_PYTHON.exists():
        pytest.fail(f"{CLIENT_PYTHON} is missing: run `make setup`")
    before = records(sandbox)
    out = run_client(relay_url, token_endpoint, tmp_path)

    assert token_endpoint.resources and set(token_endpoint.resources) == {relay_url}
    assert out["connected"] and out["metadata_connected"]
    assert out["application_version"] and out["platform_version"]
    assert [m.split(" | ")[0] for m in out["installed_modules"]] == ["Name: Sandbox"]

    assert out["entities_named_customer"] == ["CustomersV3"]
    assert out["data_entities_named_salesorder"] == ["SalesOrderHeadersV2", "SalesOrderLinesV2"]
    assert out["master_data_entities"] == ["ContactPersonsV2", "CustomersV3", "ReleasedProductsV2"]
    assert out["schema"]["name"] == "CustomerV3"
    assert out["schema"]["keys"] == ["dataAreaId", "CustomerAccount"]
    assert {"CustomerAccount", "CustomerGroupId", "SalesCurrencyCode"} <= set(out["schema"]["mandatory"])
    assert out["entity_label"] == "Customer V3"
    assert [tuple(m) for m in out["no_yes"]] == [("No", 0, "No"), ("Yes", 1, "Yes")]

    assert out["created"] == {
        "dataAreaId": "usmf",
        "CustomerAccount": "FO-CLIENT-1",
        "OrganizationName": "Created by d365fo-client",
    }
    assert out["read"] == {
        "CustomerAccount": "FO-CLIENT-1",
        "OrganizationName": "Created by d365fo-client",
        "CreditLimitIsMandatory": "Yes",
    }

    usmf = sorted(r["CustomerAccount"] for r in before if r["dataAreaId"] == "usmf")
    in_group_10 = sorted(
        [r["CustomerAccount"] for r in before if r["dataAreaId"] == "usmf" and r["CustomerGroupId"] == "10"]
        + ["FO-CLIENT-1"]
    )
    assert out["query"] == {"count": len(in_group_10), "accounts": in_group_10}
    all_usmf = sorted([*usmf, "FO-CLIENT-1"])
    assert [a for page in out["pages"] for a in page] == all_usmf
    assert all(len(page) == 7 for page in out["pages"][:-1])

    assert out["patched"] == {"success": True} and out["put"] == {"success": True}
    assert out["after_put"] == {
        "OrganizationName": "Replaced",
        "CustomerGroupId": "20",
        "CreditLimit": 0,
        "CreditLimitIsMandatory": "No",
    }
    assert out["deleted"] is True and out["read_after_delete"] is None
    assert sorted(r["CustomerAccount"] for r in records(sandbox)) == sorted(r["CustomerAccount"] for r in before)


def test_the_metadata_service_refuses_requests_without_the_token(sandbox):
    refused = requests.get(f"{sandbox.url}/Metadata/DataEntities", timeout=30)
    assert refused.status_code == 401
