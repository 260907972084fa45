"""Apps written like the official Durable Functions samples, run by devhost and driven only over HTTP.

Every test starts an orchestration through the app's HTTP starter (function key) and then
uses nothing but the management URLs the starter answered with, as a client of a deployed
app would: they carry the system key, not the function key.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from devhost.auth import SYSTEM_KEY_SETTING
from devhost.history import parse_time
from devhost.process import DevhostProcess
from tests.devhost.conftest import SAMPLES_APP, StartHost

RUNNING = ("Pending", "Running")


@pytest.fixture
def samples(start_host: StartHost, hub_name: str) -> DevhostProcess:
    """devhost serving the samples app from its folder, in a task hub of this test's own."""
    return start_host(hub_name, app=SAMPLES_APP)


def start(host: DevhostProcess, orchestrator: str, payload: Any = None) -> dict[str, str]:
    """Start through the app's HTTP starter; its check-status payload."""
    response = requests.post(f"{host.url}/api/orchestrators/{orchestrator}", json=payload,
                             headers={"x-functions-key": host.key}, timeout=30)
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == response.json()["statusQueryGetUri"]
    return response.json()


def status(urls: dict[str, str], **flags: bool) -> requests.Response:
    """GET the instance's statusQueryGetUri (flags: showHistory, showHistoryOutput, showInput)."""
    return requests.get(urls["statusQueryGetUri"], params={k: str(v).lower() for k, v in flags.items()}, timeout=30)


def wait_until(urls: dict[str, str], done: Any, timeout_s: float = 30.0, **flags: bool) -> dict[str, Any]:
    """Poll the status URL until `done(body)` holds; the body then."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = status(urls, **flags)
        assert answer.status_code in (200, 202), answer.text
        body = answer.json()
        if done(body):
            return body
        assert time.monotonic() < deadline, f"still {body['runtimeStatus']} after {timeout_s} s: {body}"
        time.sleep(0.1)


def finished(urls: dict[str, str], timeout_s: float = 30.0, **flags: bool) -> dict[str, Any]:
    """The final status of the instance (the status URL answers 200 once it has ended)."""
    body = wait_until(urls, lambda b: b["runtimeStatus"] not in RUNNING, timeout_s, **flags)
    assert status(urls).status_code == 200
    return body


def raise_event(urls: dict[str, str], name: str, json_text: str) -> requests.Response:
    """POST an event whose body is the JSON text given, as sendEventPostUri says."""
    return requests.post(urls["sendEventPostUri"].replace("{eventName}", name), data=json_text.encode(),
                         headers={"Content-Type": "application/json"}, timeout=30)


def history(body: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    return [event for event in body["historyEvents"] if event["EventType"] == event_type]


def test_the_starter_hands_out_urls_with_the_system_key(samples: DevhostProcess) -> None:
    urls = start(samples, "hello_cities")

    for name, url in urls.items():
        if name != "id":
            assert f"code={samples.system_key}" in url, name
            assert samples.key not in url, name
    assert finished(urls)["runtimeStatus"] == "Completed"
    with_function_key = urls["statusQueryGetUri"].replace(samples.system_key, samples.key)
    assert requests.get(with_function_key, timeout=30).status_code == 401


def test_function_chaining_with_custom_status(samples: DevhostProcess) -> None:
    body = finished(start(samples, "hello_cities", ["Lisbon", "Nairobi", "Quito"]), showHistory=True)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == ["Hello Lisbon!", "Hello Nairobi!", "Hello Quito!"]
    assert body["customStatus"] == {"greeting": None, "done": 3}
    assert len(history(body, "TaskCompleted")) == 3


def test_fan_out_fan_in_backs_up_every_file(samples: DevhostProcess, tmp_path: Path) -> None:
    source, target = make_folders(tmp_path, files=7)

    body = finished(start(samples, "backup_folder", {"source": str(source), "target": str(target)}))

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == {"files": 7, "bytes": sum(p.stat().st_size for p in source.iterdir())}
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in source.iterdir())


def test_an_orchestrator_error_fails_the_instance(samples: DevhostProcess) -> None:
    body = finished(start(samples, "backup_folder", {}))

    assert body["runtimeStatus"] == "Failed"
    assert "a source and a target folder are required" in json.dumps(body["output"])


def test_sub_orchestrations_run_as_instances_of_their_own(samples: DevhostProcess) -> None:
    urls = start(samples, "provision_devices", ["lab-1", "lab-2", "field-7"])

    body = finished(urls)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == [
        {"device": device, "key": f"key-{device}", "settings": {"telemetry": "on", "owner": device.split("-")[0]}}
        for device in ("lab-1", "lab-2", "field-7")
    ]
    child_url = urls["statusQueryGetUri"].replace(f"/instances/{urls['id']}?", f"/instances/{urls['id']}:lab-2?")
    child = requests.get(child_url, timeout=30)
    assert child.status_code == 200
    assert child.json()["runtimeStatus"] == "Completed"
    assert child.json()["output"]["device"] == "lab-2"


def test_retries_get_through_a_service_that_recovers(samples: DevhostProcess, tmp_path: Path) -> None:
    request = {"report": "q3", "calls_dir": str(tmp_path), "failures": 2, "attempts": 3}

    body = finished(start(samples, "upload_report", request), showHistory=True)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == {"report": "q3", "call": 3}
    assert body["customStatus"] == {"uploaded": True}
    assert len(list(tmp_path.glob("call-*"))) == 3
    assert len(history(body, "TaskFailed")) == 2


def test_retries_give_up_after_the_last_attempt(samples: DevhostProcess, tmp_path: Path) -> None:
    request = {"report": "q4", "calls_dir": str(tmp_path), "failures": 10, "attempts": 3}

    body = finished(start(samples, "upload_report", request))

    assert body["runtimeStatus"] == "Failed"
    assert "the report service is unavailable (call 3)" in json.dumps(body["output"])
    assert len(list(tmp_path.glob("call-*"))) == 3
    assert body["customStatus"] is None


def test_a_monitor_polls_on_durable_timers(samples: DevhostProcess) -> None:
    request = {"job": "nightly-export", "ready_after": 3, "interval_s": 1, "expire_s": 60}
    urls = start(samples, "watch_job", request)

    waiting = wait_until(urls, lambda b: b["customStatus"] is not None)
    body = finished(urls, showHistory=True)

    assert waiting["customStatus"]["state"] == "running"
    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == {"job": "nightly-export", "state": "done", "polls": 3}
    assert len(history(body, "TimerFired")) == 2
    assert seconds_between(body["createdTime"], body["lastUpdatedTime"]) >= 2


def test_external_events_answer_the_challenge_with_json_strings(samples: DevhostProcess) -> None:
    urls = start(samples, "verify_phone", {"phone": "+14255550100", "timeout_s": 120})
    wait_until(urls, lambda b: b["customStatus"] is not None)
    code = challenge_code(urls)
    wrong = "9361" if code != "9361" else "1639"

    assert raise_event(urls, "challenge_response", json.dumps(wrong)).status_code == 202
    after_wrong = wait_until(urls, lambda b: (b["customStatus"] or {}).get("attempts_left") == 2)
    assert after_wrong["customStatus"]["last_answer"] == wrong
    assert raise_event(urls, "challenge_response", json.dumps(code)).status_code == 202

    body = finished(urls)
    assert body["runtimeStatus"] == "Completed"
    assert body["output"] is True
    assert body["customStatus"] == {"attempts_left": 0, "last_answer": code}


def test_the_challenge_deadline_is_a_durable_timer(samples: DevhostProcess) -> None:
    body = finished(start(samples, "verify_phone", {"phone": "+351210000000", "timeout_s": 1}))

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] is False


def test_continue_as_new_keeps_only_the_last_generation(samples: DevhostProcess) -> None:
    urls = start(samples, "periodic_cleanup", {"round": 1, "rounds": 4, "interval_s": 0.2})

    body = finished(urls, showHistory=True, showHistoryOutput=True)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == {"rounds": 4, "removed": 1 + 2 + 3 + 4}
    assert len(history(body, "ExecutionStarted")) == 1
    assert [event["Result"] for event in history(body, "TaskCompleted")] == [4]


def test_terminate_through_its_url(samples: DevhostProcess) -> None:
    urls = start(samples, "verify_phone", {"phone": "+14255550101", "timeout_s": 600})
    wait_until(urls, lambda b: b["customStatus"] is not None)

    stopped = requests.post(urls["terminatePostUri"].replace("{text}", "operator%20cancelled"), timeout=30)

    assert stopped.status_code == 202
    body = finished(urls)
    assert body["runtimeStatus"] == "Terminated"
    assert body["output"] == "operator cancelled"
    assert raise_event(urls, "challenge_response", '"1234"').status_code == 410


def test_purge_through_its_url(samples: DevhostProcess) -> None:
    urls = start(samples, "hello_cities")
    finished(urls)

    purged = requests.delete(urls["purgeHistoryDeleteUri"], timeout=30)

    assert purged.status_code == 200
    assert purged.json() == {"instancesDeleted": 1}
    assert status(urls).status_code == 404
    assert requests.delete(urls["purgeHistoryDeleteUri"], timeout=30).status_code == 404


def test_a_killed_host_resumes_the_backup_on_restart(start_host: StartHost, hub_name: str, tmp_path: Path) -> None:
    source, target = make_folders(tmp_path, files=8)
    first = start_host(hub_name, app=SAMPLES_APP)
    urls = start(first, "backup_folder", {"source": str(source), "target": str(target), "pace_s": 1})
    deadline = time.monotonic() + 30
    while not any(target.iterdir()):
        assert time.monotonic() < deadline, "no file was copied"
        time.sleep(0.05)

    first.kill()
    copied_before = len(list(target.iterdir()))
    # The same address and keys, as the app keeps them on Azure: the URLs handed out still work.
    second = start_host(hub_name, app=SAMPLES_APP, port=urlsplit(first.url).port,
                        env={SYSTEM_KEY_SETTING: first.system_key})

    body = finished(urls, timeout_s=60)
    assert copied_before < 8
    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == {"files": 8, "bytes": sum(p.stat().st_size for p in source.iterdir())}
    assert sorted(p.read_bytes() for p in target.iterdir()) == sorted(p.read_bytes() for p in source.iterdir())
    assert "Resumed 1 unfinished orchestration instance(s)" in second.logs()


def make_folders(tmp_path: Path, files: int) -> tuple[Path, Path]:
    source, target = tmp_path / "site", tmp_path / "backup"
    source.mkdir()
    target.mkdir()
    for number in range(files):
        (source / f"page-{number}.html").write_text(f"<p>page {number}</p>" * (number + 1))
    return source, target


def challenge_code(urls: dict[str, str]) -> str:
    """The code the challenge activity sent (its output, in the history)."""
    body = status(urls, showHistory=True, showHistoryOutput=True).json()
    [sent] = history(body, "TaskCompleted")
    assert isinstance(sent["Result"], str) and sent["Result"].isdigit()
    return sent["Result"]


def seconds_between(earlier: str, later: str) -> float:
    return (parse_time(later) - parse_time(earlier)).total_seconds()
