"""An HTTPS front for a sandbox on loopback, for clients that refuse plain `http`.

Microsoft's Dataverse SDK only accepts an `https://` environment URL. The front terminates
TLS with a certificate the caller provides (tests make a self-signed one at run time) and
forwards each request unchanged to the sandbox's plain listener, adding
`X-Forwarded-Proto: https`. uvicorn trusts that header from loopback, so the links the
sandbox writes (`@odata.nextLink`, `@odata.context`, `OData-EntityId`) point back at the
front with its scheme and port, as the service's point at the service.
"""

from __future__ import annotations

import http.client
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

# Hop-by-hop headers describe one connection and are not forwarded (RFC 9110, section 7.6.1).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)
_TIMEOUT_S = 120.0


class TlsFront:
    """`https://127.0.0.1:<port>` in front of a sandbox URL; a context manager that stops it."""

    def __init__(self, upstream: str, certificate: Path, private_key: Path) -> None:
        target = urlsplit(upstream)
        if target.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the TLS front forwards to loopback only, not {upstream!r}")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certificate, private_key)
        handler = type("_Handler", (_ForwardingHandler,), {"upstream": (target.hostname, target.port or 80)})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="tls-front", daemon=True)

    @property
    def url(self) -> str:
        """The front's base URL, e.g. `https://127.0.0.1:51234`."""
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> TlsFront:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> TlsFront:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


class _ForwardingHandler(BaseHTTPRequestHandler):
    """Sends each request to the upstream sandbox on one kept-alive connection per client connection."""

    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int]

    def setup(self) -> None:
        super().setup()
        self._upstream: http.client.HTTPConnection | None = None

    def finish(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the sandbox keeps its own statistics of every request."""

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["X-Forwarded-Proto"] = "https"
        headers["X-Forwarded-For"] = self.client_address[0]
        if self._upstream is None:
            self._upstream = http.client.HTTPConnection(*self.upstream, timeout=_TIMEOUT_S)
        try:
            self._upstream.request(self.command, self.path, body=body, headers=headers)
            response = self._upstream.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self._upstream.close()
            self._upstream = None
            self.send_error(502, "The sandbox behind the TLS front did not answer.")
            return
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _forward
