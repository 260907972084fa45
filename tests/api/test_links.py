"""Links the API hands out: absolute, under the host's routePrefix, with the caller's own `code` and no other key."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import azure.functions as func
import pytest

from api.links import api_link, run_errors_link, run_link
from shared.errors import SettingError
from shared.settings import HOST_JSON, ROUTE_PREFIX_SETTING, route_prefix

FRONT = "https://contoso-di.azurewebsites.net"


def request(url: str, headers: dict[str, str] | None = None, params: dict[str, str] | None = None) -> func.HttpRequest:
    return func.HttpRequest("POST", url, headers=headers or {}, params=params or {}, body=b"")


@pytest.fixture(autouse=True)
def host_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ROUTE_PREFIX_SETTING, raising=False)


def test_a_link_has_the_callers_scheme_and_host_and_the_route_prefix() -> None:
    called = request(f"{FRONT}/api/projects/p1/runs", headers={"x-functions-key": "header-key"})
    assert run_link(called, "run-1") == f"{FRONT}/api/runs/run-1"
    assert run_errors_link(called, "run-1") == f"{FRONT}/api/runs/run-1/errors"
    local = request("http://127.0.0.1:7071/api/runs/run-1")
    assert run_link(local, "run-1") == "http://127.0.0.1:7071/api/runs/run-1"


def test_the_callers_own_code_is_carried_and_no_other_key() -> None:
    key = "a+b/c==&x=1"
    called = request(f"{FRONT}/api/projects/p1/runs?code=a%2Bb%2Fc%3D%3D%26x%3D1", params={"code": key})
    link = urlsplit(run_link(called, "run-1"))
    assert parse_qs(link.query) == {"code": [key]}
    with_header = request(f"{FRONT}/api/projects/p1/runs", headers={"x-functions-key": "header-key"})
    assert urlsplit(run_link(with_header, "run-1")).query == ""
    assert "header-key" not in run_link(with_header, "run-1")


def test_segments_are_percent_encoded() -> None:
    assert api_link(request(f"{FRONT}/api/x"), "runs", "a b/c") == f"{FRONT}/api/runs/a%20b%2Fc"


@pytest.mark.parametrize(("setting", "expected"), [("v2/data", "/v2/data/runs/r1"), ("/", "/runs/r1"), ("", "/runs/r1")])
def test_the_app_setting_overrides_the_route_prefix(monkeypatch: pytest.MonkeyPatch, setting: str, expected: str) -> None:
    monkeypatch.setenv(ROUTE_PREFIX_SETTING, setting)
    assert run_link(request(f"{FRONT}/anything"), "r1") == FRONT + expected


def write_host_json(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "host.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def test_route_prefix_comes_from_host_json_else_api(tmp_path: Path) -> None:
    custom = write_host_json(tmp_path, {"version": "2.0", "extensions": {"http": {"routePrefix": "/integration/"}}})
    assert route_prefix({}, custom) == "integration"
    assert route_prefix({ROUTE_PREFIX_SETTING: "over"}, custom) == "over"
    assert route_prefix({}, write_host_json(tmp_path, {"version": "2.0"})) == "api"
    assert route_prefix({}, write_host_json(tmp_path, {"extensions": {"http": {"routePrefix": ""}}})) == ""
    assert route_prefix({}, tmp_path / "missing.json") == "api"
    assert route_prefix({}, HOST_JSON) == "api"


def test_an_unreadable_host_json_names_the_setting(tmp_path: Path) -> None:
    broken = tmp_path / "host.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingError) as raised:
        route_prefix({}, broken)
    assert raised.value.field == "routePrefix"
    with pytest.raises(SettingError):
        route_prefix({}, write_host_json(tmp_path, {"extensions": {"http": "api"}}))
