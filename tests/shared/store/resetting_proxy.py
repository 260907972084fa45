"""A TCP proxy in front of a storage endpoint that resets the connection of the first request matching a pattern.

It stands for a connection dropped between a request and its answer (an idle connection the
server closed as the request went out, a load balancer's reset): the request never reaches the
server, and the client sees `Connection reset by peer`.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class ResettingProxy:
    def __init__(self, upstream_port: int, pattern: bytes) -> None:
        self._upstream_port = upstream_port
        self._pattern = pattern
        self.resets = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, reader: socket.socket, writer: socket.socket, from_client: bool) -> None:
        try:
            while data := reader.recv(65536):
                if from_client and self._pattern in data and self._take_reset():
                    reader.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                writer.sendall(data)
        except OSError:
            pass
        for sock in (reader, writer):
            with suppress(OSError):
                sock.close()

    def _take_reset(self) -> bool:
        with self._lock:
            if self.resets:
                return False
            self.resets += 1
            return True


@contextmanager
def resetting_proxy(upstream_port: int, pattern: bytes) -> Iterator[ResettingProxy]:
    proxy = ResettingProxy(upstream_port, pattern)
    try:
        yield proxy
    finally:
        proxy.close()
