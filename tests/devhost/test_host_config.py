"""host.json, local.settings.json and app settings, as devhost reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devhost.auth import function_key
from devhost.host_config import ConfigError, apply_app_settings, load_local_settings, read_host_config


def write_host_json(folder: Path, durable: dict) -> None:
    (folder / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"durableTask": durable}}))


def test_host_json_settings_and_app_setting_references(tmp_path: Path) -> None:
    write_host_json(tmp_path, {"hubName": "%HUB%", "maxConcurrentActivityFunctions": 3,
                               "maxConcurrentOrchestratorFunctions": 2})

    config = read_host_config(tmp_path, {"HUB": "Orders2"})

    assert config.hub_name == "Orders2"
    assert (config.max_concurrent_activities, config.max_concurrent_orchestrations) == (3, 2)
    assert config.route_prefix == "api"


def test_an_app_setting_overrides_the_route_prefix_as_on_azure(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": "api"}}}))

    assert read_host_config(tmp_path, {}).route_prefix == "api"
    overridden = read_host_config(tmp_path, {"AzureFunctionsJobHost__extensions__http__routePrefix": "/data/"})
    assert overridden.route_prefix == "data"


@pytest.mark.parametrize("durable", [{"hubName": "%MISSING%"}, {"hubName": "bad-name"}, {"hubName": "ab"},
                                     {"maxConcurrentActivityFunctions": 0}])
def test_unusable_host_json_values_are_refused(tmp_path: Path, durable: dict) -> None:
    write_host_json(tmp_path, durable)

    with pytest.raises(ConfigError):
        read_host_config(tmp_path, {})


def test_local_settings_fill_in_but_never_override_the_environment(tmp_path: Path) -> None:
    values = {"DEVHOST_FUNCTION_KEY": "from-file", "GREETING": "hi", "KEPT": "file"}
    (tmp_path / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    environ = {"KEPT": "environment"}

    apply_app_settings(load_local_settings(tmp_path), environ)

    assert environ == {"DEVHOST_FUNCTION_KEY": "from-file", "GREETING": "hi", "KEPT": "environment"}
    assert function_key(environ) == "from-file"
    assert function_key({}) == "local-dev-key"
    assert load_local_settings(tmp_path / "nowhere") == {}


@pytest.mark.parametrize(("host_json", "complaint"), [
    ({"extensions": {}}, "missing the required 'version' property"),
    ({"version": "1.0"}, "'1.0' is an invalid value for the 'version' property"),
    ({"version": 2.0}, "2.0 is an invalid value for the 'version' property"),
    ([{"version": "2.0"}], "must hold a JSON object"),
])
def test_host_json_without_version_2_is_refused_as_the_host_refuses_it(
    tmp_path: Path, host_json: object, complaint: str
) -> None:
    (tmp_path / "host.json").write_text(json.dumps(host_json))

    with pytest.raises(ConfigError, match=complaint):
        read_host_config(tmp_path, {})


def test_without_host_json_the_defaults_apply(tmp_path: Path) -> None:
    config = read_host_config(tmp_path, {})

    assert (config.hub_name, config.route_prefix) == ("TestHubName", "api")
