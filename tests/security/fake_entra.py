"""A stand-in for Entra's token endpoint, reached by the app's own MSAL through an HTTPS proxy.

Entra is the one service the twin cannot run. The app keeps talking to
`https://login.microsoftonline.com` exactly as deployed; the app settings `HTTPS_PROXY`
(honoured by requests, which MSAL uses) and `REQUESTS_CA_BUNDLE` route that host to this
proxy, which answers as Entra does under a certificate of its own. `NO_PROXY` keeps every
other request (Azurite, the sandboxes) direct. Tenants listed in `refusing` get Entra's
`invalid_client` answer; any other tenant gets `token`.
"""

from __future__ import annotations

import datetime
import json
import socketserver
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ENTRA_HOST = "login.microsoftonline.com"


@dataclass
class FakeEntra:
    token: str
    refusing: set[str]
    settings: dict[str, str] = field(default_factory=dict)
    """The app settings that send the app's requests for Entra here."""
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    """The form of every token request received (client id, secret, scope)."""


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ENTRA_HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(ENTRA_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "entra.pem", folder / "entra.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _entra_handler(entra: FakeEntra) -> type[BaseHTTPRequestHandler]:
    class Entra(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            tenant = self.path.split("/")[1]
            if self.path.endswith("/v2.0/.well-known/openid-configuration"):
                base = f"https://{ENTRA_HOST}/{tenant}"
                self._json(200, {"token_endpoint": f"{base}/oauth2/v2.0/token",
                                 "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                 "issuer": f"{base}/v2.0"})
            elif self.path.startswith("/common/discovery/instance"):
                self._json(200, {"api-version": "1.1", "metadata": [
                    {"preferred_network": ENTRA_HOST, "preferred_cache": ENTRA_HOST, "aliases": [ENTRA_HOST]}]})
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            tenant = self.path.split("/")[1]
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
            entra.token_requests.append(form)
            if tenant in entra.refusing:
                self._json(401, {"error": "invalid_client",
                                 "error_description": "AADSTS7000215: Invalid client secret provided."})
            else:
                self._json(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": entra.token})

        def log_message(self, format: str, *args: object) -> None:
            return

    return Entra


@contextmanager
def fake_entra(token: str, refusing: set[str]) -> Iterator[FakeEntra]:
    """Serve the proxy until the block ends; `settings` of the yielded FakeEntra point an app at it."""
    entra = FakeEntra(token, refusing)
    handler = _entra_handler(entra)
    with tempfile.TemporaryDirectory(prefix="fake-entra-") as folder:
        cert_path, key_path = _certificate(Path(folder))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert_path, key_path)

        class Tunnel(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request_line = self.rfile.readline().decode("latin-1")
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                if not request_line.startswith(f"CONNECT {ENTRA_HOST}:443 "):
                    self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                with tls.wrap_socket(self.connection, server_side=True) as secured:
                    handler(secured, self.client_address, self.server)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="fake-entra", daemon=True).start()
        entra.settings = {"HTTPS_PROXY": f"http://127.0.0.1:{server.server_address[1]}",
                          "NO_PROXY": "127.0.0.1,localhost", "REQUESTS_CA_BUNDLE": str(cert_path)}
        try:
            yield entra
        finally:
            server.shutdown()
            server.server_close()
