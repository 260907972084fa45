"""The bench's reference clients survive what real clients survive, and still fail on real failures."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from bench.reference_clients import CONNECTION_ATTEMPTS, batch_upsert, per_record_upsert, retry_after_s
from bench.workload import ENTITY_SET, KEY, sales_accounts, target_payloads
from sandbox.process import start_sandbox

RECORDS = 120


def stored_keys(url: str) -> list[str]:
    answer = requests.get(f"{url}/_sandbox/records/{ENTITY_SET}", timeout=30)
    answer.raise_for_status()
    return sorted(record[KEY] for record in answer.json())


@pytest.mark.parametrize(("client", "requests_needed"), [(per_record_upsert, RECORDS), (batch_upsert, RECORDS // 10)])
def test_dropped_connections_and_503s_are_retried_and_every_record_lands_once(client, requests_needed):
    payloads = target_payloads(sales_accounts(RECORDS))
    with start_sandbox("dataverse", fault_rate=0.3, seed=3) as server:
        run = client(server.url, payloads)
        faults = requests.get(server.url + "/_sandbox/stats", timeout=30).json()["faults"]
        assert stored_keys(server.url) == sorted(p[KEY] for p in payloads)
    assert 0 < run.connection_retries <= faults
    assert run.requests == requests_needed + faults
    assert run.throttled == 0


def test_a_server_that_stays_unreachable_fails_the_contender():
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{placeholder.getsockname()[1]}"
    payloads = target_payloads(sales_accounts(3))
    with pytest.raises(RuntimeError, match=f"failed {CONNECTION_ATTEMPTS} times in a row"):
        per_record_upsert(url, payloads, workers=1)


def test_retry_after_is_read_as_seconds_or_an_http_date():
    assert retry_after_s({"Retry-After": "7"}, 1) == 7
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < retry_after_s({"Retry-After": later}, 1) <= 30
    assert 0 <= retry_after_s({}, 1) <= 0.05
    assert 0 <= retry_after_s({"Retry-After": "soon"}, 3) <= 0.2
