"""A loopback server that accepts every connection, reads what it is sent, and never answers.

The worst kind of down: no refusal, no reset, just silence until the caller gives up.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class SilentServer:
    url: str
    requests: list[bytes] = field(default_factory=list)
    """The first bytes each accepted connection sent (its request line and headers, as far as they came)."""


@contextmanager
def silent_server() -> Iterator[SilentServer]:
    """Listen on a free loopback port until the block ends, holding every connection open unanswered."""
    listener = socket.create_server(("127.0.0.1", 0))
    server = SilentServer(f"http://127.0.0.1:{listener.getsockname()[1]}")
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)
            connection.settimeout(5)
            try:
                server.requests.append(connection.recv(65536))
            except OSError:
                server.requests.append(b"")

    thread = threading.Thread(target=accept, name="silent-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(10)
        for connection in held:
            connection.close()
