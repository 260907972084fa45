"""The servers of the local twin answer kept-alive requests without waiting for delayed ACKs.

A response written in two parts (head, then body) on a socket without TCP_NODELAY waits for
the client's delayed ACK: 40 ms on every kept-alive GET, on top of the latency a sandbox is
asked for. Accepted connections take the option from the listener.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from devhost.host import listen as devhost_listen
from sandbox.cli import listen as sandbox_listen


@pytest.mark.parametrize("listen", [sandbox_listen, devhost_listen], ids=["sandbox", "devhost"])
def test_accepted_connections_send_without_delay(listen: Callable[[int], socket.socket]) -> None:
    with listen(0) as listener:
        listener.listen()
        with socket.create_connection(listener.getsockname()[:2]) as client:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                client.sendall(b"ping")
                assert accepted.recv(4) == b"ping"


def test_a_taken_port_is_refused() -> None:
    with sandbox_listen(0) as taken:
        taken.listen()
        with pytest.raises(OSError):
            sandbox_listen(taken.getsockname()[1]).close()
