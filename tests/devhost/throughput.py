"""How fast devhost runs a fan-out of no-op activities, end to end (a measurement, not a test).

    .venv/bin/python -m tests.devhost.throughput [--activities 1000]

Starts an Azurite of its own unless DI_TEST_STORAGE names one, then a devhost with the
durable test app in a fresh task hub, and prints the time from the start request to the
completed status.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

from devhost import azurite
from devhost.process import start_devhost
from tests.devhost.client import HUB_SETTING, start, wait_for
from tests.devhost.conftest import DURABLE_APP


def measure(storage: str, activities: int) -> float:
    """Seconds from starting a fan-out of `activities` no-op activities to its completed status."""
    log_path = Path(tempfile.mkdtemp(prefix="devhost-throughput-")) / "devhost.log"
    host = start_devhost(storage, app=DURABLE_APP, env={HUB_SETTING: "bench" + uuid.uuid4().hex[:8]},
                         log_path=log_path)
    try:
        started = time.perf_counter()
        body = wait_for(host, start(host, "fan_out_noop", activities)["id"], timeout_s=600)
        elapsed = time.perf_counter() - started
    finally:
        host.stop()
    if body["output"] != activities:
        raise RuntimeError(f"the fan-out ended {body['runtimeStatus']} with {body['output']!r}; see {log_path}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=1000)
    args = parser.parse_args()
    storage = os.environ.get("DI_TEST_STORAGE")
    server = None if storage else azurite.start()
    try:
        elapsed = measure(storage or server.connection_string, args.activities)
    finally:
        if server is not None:
            server.stop()
    print(f"fan-out of {args.activities} no-op activities: {elapsed:.2f} s ({args.activities / elapsed:.0f}/s)")


if __name__ == "__main__":
    main()
