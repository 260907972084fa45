"""Start and stop Azurite (the npm storage emulator) on free loopback ports.

A Functions host cannot run without a storage account (AzureWebJobsStorage holds the task
hub), and on a workstation that account is Azurite, whatever the app: so the emulator is the
host's dependency, not the app's, and devhost's own tests start it without anything else.
twin/ starts one for this app's twin. Azurite is pinned in package.json and installed into
node_modules/ by `make setup`.

    python -m devhost.azurite [--location DIR]   # prints the connection string, runs until killed
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite"
# The emulator's published, well-known development account: not a secret.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def connection_string(host: str, blob_port: int, queue_port: int, table_port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint=http://{host}:{blob_port}/{DEV_ACCOUNT};"
        f"QueueEndpoint=http://{host}:{queue_port}/{DEV_ACCOUNT};"
        f"TableEndpoint=http://{host}:{table_port}/{DEV_ACCOUNT};"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Azurite:
    """A running Azurite process that this process started."""

    process: subprocess.Popen[bytes]
    connection_string: str
    workdir: Path
    owns_workdir: bool

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start(location: Path | None = None, timeout_s: float = 30.0) -> Azurite:
    """Start Azurite on three free loopback ports and wait until every service accepts connections.

    Without a `location` the emulator is a throwaway one and keeps its data in memory: with files,
    Azurite rewrites its whole table database every 5 seconds while it changes, which at some
    hundred thousand rows becomes most of its work. Its log still goes to a temporary folder.
    """
    if not AZURITE_BIN.exists():
        raise RuntimeError(f"{AZURITE_BIN} is missing: run `make setup` first")
    owns = location is None
    workdir = Path(tempfile.mkdtemp(prefix="azurite-")) if location is None else location
    workdir.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for _ in range(5):
        ports = [free_port(), free_port(), free_port()]
        if len(set(ports)) < 3:
            continue
        blob, queue, table = ports
        log = open(workdir / "azurite.log", "ab")  # noqa: SIM115 - handed to the child process
        process = subprocess.Popen(
            [
                str(AZURITE_BIN), "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
                *(["--inMemoryPersistence"] if owns else ["--location", str(workdir)]),
                "--blobHost", "127.0.0.1", "--blobPort", str(blob),
                "--queueHost", "127.0.0.1", "--queuePort", str(queue),
                "--tableHost", "127.0.0.1", "--tablePort", str(table),
            ],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and process.poll() is None:
            if all(_listening(p) for p in ports):
                return Azurite(process, connection_string("127.0.0.1", blob, queue, table), workdir, owns)
            time.sleep(0.1)
        last_error = (workdir / "azurite.log").read_text(errors="replace")[-2000:]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if owns:
        shutil.rmtree(workdir, ignore_errors=True)
    raise RuntimeError(f"Azurite did not start: {last_error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--location", type=Path, help="folder for Azurite's data (default: a temporary one)")
    args = parser.parse_args()
    azurite = start(args.location)
    print(azurite.connection_string, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        azurite.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        azurite.stop()


if __name__ == "__main__":
    main()
