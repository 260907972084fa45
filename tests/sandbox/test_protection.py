"""Service protection, tokens, latency, per-record cost and faults, over HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.process import start_sandbox

ACCOUNT = "Microsoft.Dynamics.CRM.account"


def configure(http: requests.Session, server, **knobs) -> None:
    http.post(server.url + "/_sandbox/config", json=knobs).raise_for_status()


def test_the_request_window_answers_429_with_retry_after_and_waits_longer_when_pushed(dataverse, http):
    configure(http, dataverse, requests_per_window=3, window_s=2)
    url = dataverse.service_url + "accounts?$top=1"
    assert [http.get(url).status_code for _ in range(3)] == [200, 200, 200]
    first = http.get(url)
    assert first.status_code == 429
    assert first.json()["error"]["code"] == "0x80072322"
    assert "limit of 3 over time window of 2 seconds" in first.json()["error"]["message"]
    waits = [int(first.headers["Retry-After"])]
    for _ in range(3):
        waits.append(int(http.get(url).headers["Retry-After"]))
    assert waits[0] >= 1 and waits[-1] > waits[0]
    stats = http.get(dataverse.url + "/_sandbox/stats").json()
    assert stats["throttled"] >= 4 and stats["by_route"]["GET accounts"]["throttled"] >= 4


def test_the_window_frees_up_after_retry_after(dataverse, http):
    configure(http, dataverse, requests_per_window=2, window_s=1)
    url = dataverse.service_url + "accounts?$top=1"
    http.get(url), http.get(url)
    throttled = http.get(url)
    assert throttled.status_code == 429
    time.sleep(int(throttled.headers["Retry-After"]) + 0.05)
    assert http.get(url).status_code == 200


def test_the_concurrency_cap_answers_429(dataverse, http):
    configure(http, dataverse, max_concurrency=2, latency_ms=400)
    url = dataverse.service_url + "accounts?$top=1"
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: requests.get(url, timeout=10), range(8)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= 2 and 429 in codes
    throttled = next(r for r in responses if r.status_code == 429)
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json()["error"] == {
        "code": "0x80072326",
        "message": "Number of concurrent requests exceeded the limit of 2.",
    }


def test_a_throttling_storm_refuses_a_fraction_of_requests(dataverse, http):
    configure(http, dataverse, throttle_rate=0.3)
    responses = [http.get(dataverse.service_url + "accounts?$top=1") for _ in range(60)]
    throttled = [r for r in responses if r.status_code == 429]
    assert 5 <= len(throttled) <= 35
    assert {r.headers["Retry-After"] for r in throttled} == {"1"}
    assert {r.json()["error"]["code"] for r in throttled} == {"0x80072321"}
    assert {r.status_code for r in responses} == {200, 429}


def test_latency_holds_a_request_in_flight_before_it_is_served(dataverse, http):
    configure(http, dataverse, max_concurrency=1, latency_ms=1500)
    url = dataverse.service_url + "accounts?$top=1"
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda _: requests.get(url, timeout=30), range(2)))
    assert sorted(r.status_code for r in responses) == [200, 429]
    assert "concurrent requests" in next(r for r in responses if r.status_code == 429).json()["error"]["message"]


def test_per_record_cost_holds_the_answer_after_the_records_are_written(dataverse, http):
    http.post(dataverse.url + "/_sandbox/reset").raise_for_status()
    configure(http, dataverse, max_concurrency=1, record_cost_ms=500)
    written_before = http.get(dataverse.url + "/_sandbox/stats").json()["records_written"]
    targets = [{"@odata.type": ACCOUNT, "name": f"n{i}"} for i in range(10)]
    with ThreadPoolExecutor(1) as pool:
        write = pool.submit(requests.post, dataverse.service_url + "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
                            json={"Targets": targets}, timeout=60)
        deadline = time.monotonic() + 30
        while len(http.get(dataverse.url + "/_sandbox/records/accounts").json()) < 10:
            assert time.monotonic() < deadline and not write.done(), "the records were never written"
            time.sleep(0.05)
        assert not write.done(), "answered before paying for the records it wrote"
        assert http.get(dataverse.service_url + "accounts?$top=1").status_code == 429  # its slot is still held
        assert write.result().status_code == 200
    assert http.get(dataverse.url + "/_sandbox/stats").json()["records_written"] == written_before + 10


def test_knobs_are_validated(dataverse, http):
    assert http.post(dataverse.url + "/_sandbox/config", json={"latency": 5}).status_code == 400
    assert http.post(dataverse.url + "/_sandbox/config", json={"fault_rate": 2}).status_code == 400
    knobs = http.get(dataverse.url + "/_sandbox/config").json()
    assert set(knobs) == {
        "latency_ms",
        "record_cost_ms",
        "max_concurrency",
        "requests_per_window",
        "window_s",
        "fault_rate",
        "throttle_rate",
    }
    assert (knobs["max_concurrency"], knobs["requests_per_window"], knobs["window_s"]) == (52, 6000, 300)


@pytest.mark.parametrize("kind", ["dataverse", "finops"])
def test_a_token_is_required_when_configured(kind):
    with start_sandbox(kind, token="s3cret") as server, requests.Session() as http:
        url = server.service_url + ("accounts" if kind == "dataverse" else "CustomersV3")
        missing = http.get(url)
        assert missing.status_code == 401 and "error" in missing.json()
        assert http.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get(url, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert http.get(server.url + "/_sandbox/stats").status_code == 200


def outcomes(url: str, count: int) -> list[str]:
    seen = []
    with requests.Session() as http:
        for _ in range(count):
            try:
                seen.append(str(http.get(url, timeout=10).status_code))
            except requests.RequestException:
                seen.append("dropped")
    return seen


def test_faults_are_503s_and_dropped_connections_drawn_from_the_seed():
    runs = []
    for _ in range(2):
        with start_sandbox("dataverse", fault_rate=0.5, seed=7) as server:
            runs.append(outcomes(server.service_url + "accounts?$top=1", 24))
            stats = requests.get(server.url + "/_sandbox/stats").json()
            assert stats["faults"] == sum(o != "200" for o in runs[-1])
    assert runs[0] == runs[1]
    assert {"200", "503", "dropped"} <= set(runs[0])
