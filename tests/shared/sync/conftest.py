"""A sandbox Dataverse holding accounts, for the sync steps' tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import requests

from sandbox.process import SandboxProcess, start_sandbox


@contextmanager
def dataverse_with_accounts(numbers: Sequence[str]) -> Iterator[SandboxProcess]:
    """A sandbox Dataverse whose accounts have these numbers, with ids in the same order."""
    with start_sandbox("dataverse") as server:
        records = [{"accountid": f"00000000-0000-0000-0000-{n:012d}", "accountnumber": number, "name": f"Account {n}"}
                   for n, number in enumerate(numbers)]
        requests.post(f"{server.url}/_sandbox/records/accounts", json=records, timeout=30).raise_for_status()
        yield server
