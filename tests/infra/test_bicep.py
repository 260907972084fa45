"""What `azd up` deploys (infra/, azure.yaml), read with a Bicep parser: no Bicep compiler installs here.

The Bicep is parsed with pycep-parser and each promise checked on the parse tree: a Flex
Consumption Python 3.11 app deploying from a blob container with its user-assigned identity,
storage without shared keys, the identity's roles by their well-known ids, Application
Insights, and every app setting the service reads.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pycep import BicepParser

ROOT = Path(__file__).resolve().parent.parent.parent
INFRA = ROOT / "infra"
PRODUCT = ("function_app.py", "api", "orchestrators", "activities", "shared")

STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"


@cache
def bicep(name: str) -> dict[str, Any]:
    return BicepParser().parse(file_path=INFRA / name)


def app() -> dict[str, Any]:
    return bicep("app.bicep")


def expression(node: Any) -> Any:
    """A property access (`identity.properties.clientId`) as its dotted text; anything else as parsed."""
    if isinstance(node, dict) and node.get("operator", {}).get("type") == "property_accessor":
        operands = node["operator"]["operands"]
        return f"{expression(operands['operand_1'])}.{expression(operands['operand_2'])}"
    return node


def variable(name: str) -> Any:
    return app()["variables"][name]["value"]


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body["config"] for name, body in app()["resources"].items() if body["type"] == kind}


def only(kind: str) -> tuple[str, dict[str, Any]]:
    found = resources_of(kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def app_settings() -> dict[str, Any]:
    _, config = only("Microsoft.Web/sites/config")
    assert config["name"] == "appsettings"
    merged = config["properties"]["function"]
    assert merged["type"] == "union" and merged["parameters"]["arg_1"] == "extraAppSettings"
    return {name: expression(value) for name, value in merged["parameters"]["arg_2"].items()}


def test_the_plan_is_flex_consumption_on_linux() -> None:
    _, plan = only("Microsoft.Web/serverfarms")

    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan["properties"]["reserved"] is True


def test_the_function_app_runs_python_3_11_deployed_from_a_blob_container_with_its_identity() -> None:
    name, site = only("Microsoft.Web/sites")
    config = site["properties"]["functionAppConfig"]
    storage = config["deployment"]["storage"]
    _, container = only("Microsoft.Storage/storageAccounts/blobServices/containers")

    assert site["kind"] == "functionapp,linux"
    assert expression(site["properties"]["serverFarmId"]) == f"{only('Microsoft.Web/serverfarms')[0]}.id"
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    assert storage["type"] == "blobContainer"
    assert storage["value"].endswith("${deploymentContainerName}") and container["name"] == "deploymentContainerName"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity", "userAssignedIdentityResourceId": {
            "operator": {"type": "property_accessor", "operands": {"operand_1": "identity", "operand_2": "id"}}}}
    assert set(config["scaleAndConcurrency"]) == {"maximumInstanceCount", "instanceMemoryMB"}
    assert site["identity"]["type"] == "UserAssigned"
    assert list(site["identity"]["userAssignedIdentities"]) == ["'${identity.id}'"]
    assert site["properties"]["httpsOnly"] is True
    assert {"'azd-service-name'": "api"} in site["tags"]["function"]["parameters"].values()
    assert only("Microsoft.ManagedIdentity/userAssignedIdentities")[0] == "identity"
    assert name == "functionApp"


def test_storage_takes_no_shared_keys_and_serves_blobs_queues_and_tables() -> None:
    name, storage = only("Microsoft.Storage/storageAccounts")
    properties = storage["properties"]

    assert properties["allowSharedKeyAccess"] is False
    assert properties["allowBlobPublicAccess"] is False
    assert properties["minimumTlsVersion"] == "TLS1_2"
    assert properties["supportsHttpsTrafficOnly"] is True
    for service in ("blobServices", "queueServices", "tableServices"):
        _, config = only(f"Microsoft.Storage/storageAccounts/{service}")
        assert config["parent"] == name and config["name"] == "default"


def test_the_identity_holds_the_storage_roles_and_publishes_metrics() -> None:
    granted = set()
    for assignment in resources_of("Microsoft.Authorization/roleAssignments").values():
        role = assignment["properties"]["roleDefinitionId"]["function"]
        assert role["type"] == "subscription_resource_id"
        assert role["parameters"]["resource_type"] == "Microsoft.Authorization/roleDefinitions"
        assert expression(assignment["properties"]["principalId"]) == "identity.properties.principalId"
        assert assignment["properties"]["principalType"] == "ServicePrincipal"
        granted.add((variable(role["parameters"]["resource_name_1"]), assignment["scope"]))

    assert granted == {
        (STORAGE_BLOB_DATA_OWNER, "storage"),
        (STORAGE_QUEUE_DATA_CONTRIBUTOR, "storage"),
        (STORAGE_TABLE_DATA_CONTRIBUTOR, "storage"),
        (MONITORING_METRICS_PUBLISHER, "insights"),
    }


def test_application_insights_keeps_its_data_in_log_analytics_and_takes_entra_only() -> None:
    name, insights = only("Microsoft.Insights/components")
    workspace, _ = only("Microsoft.OperationalInsights/workspaces")

    assert name == "insights"
    assert expression(insights["properties"]["WorkspaceResourceId"]) == f"{workspace}.id"
    assert insights["properties"]["DisableLocalAuth"] is True


def test_storage_is_reached_with_the_identity_never_a_key() -> None:
    settings = app_settings()

    assert settings["AzureWebJobsStorage__accountName"] == "storage.name"
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == "identity.properties.clientId"
    assert settings["AZURE_CLIENT_ID"] == "identity.properties.clientId"
    assert "AzureWebJobsStorage" not in settings
    assert not any("AccountKey" in str(value) for value in settings.values())


def test_telemetry_goes_to_application_insights_with_the_identity() -> None:
    settings = app_settings()

    assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "insights.properties.ConnectionString"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "ClientId=${identity.properties.clientId};Authorization=AAD")


def test_flex_consumption_is_not_given_the_settings_it_refuses() -> None:
    assert {"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION"}.isdisjoint(app_settings())


def settings_host_json_names() -> set[str]:
    return set(re.findall(r"%([^%]+)%", (ROOT / "host.json").read_text(encoding="utf-8")))


def settings_the_product_names() -> set[str]:
    """Every `DI_*` app setting named anywhere in the code that ships."""
    names: set[str] = set()
    for entry in PRODUCT:
        path = ROOT / entry
        for module in [path] if path.is_file() else sorted(path.rglob("*.py")):
            names.update(re.findall(r"""["'](DI_[A-Z0-9_]+)["']""", module.read_text(encoding="utf-8")))
    return names


def test_every_setting_the_app_reads_is_deployed() -> None:
    expected = settings_host_json_names() | settings_the_product_names()

    assert "TaskHubName" in expected and "DI_KEY_BUCKETS" in expected
    assert expected - set(app_settings()) == set()


def test_production_values_keep_the_local_twins_allowances_off() -> None:
    settings = app_settings()

    assert settings["DI_ALLOW_UNAUTHENTICATED_CONNECTIONS"] == "false"
    assert settings["TaskHubName"] == "taskHubName"


def test_main_deploys_a_resource_group_for_azd_and_passes_every_parameter_app_needs() -> None:
    main = bicep("main.bicep")
    module = main["modules"]["app"]
    needed = {name for name, parameter in app()["parameters"].items() if parameter["default"] is None}

    assert main["globals"]["scope"]["value"] == "subscription"
    assert main["resources"]["group"]["config"]["tags"] == "tags"
    assert main["variables"]["tags"]["value"] == {"'azd-env-name'": "environmentName"}
    assert module["detail"]["path"] == "app.bicep" and module["config"]["scope"] == "group"
    assert set(module["config"]["params"]) == needed


def test_the_parameters_file_fills_mains_required_parameters_from_the_azd_environment() -> None:
    parameters = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    required = {name for name, parameter in bicep("main.bicep")["parameters"].items() if parameter["default"] is None}

    assert set(parameters) >= required
    assert parameters["environmentName"] == {"value": "${AZURE_ENV_NAME}"}
    assert parameters["location"] == {"value": "${AZURE_LOCATION}"}


def test_azure_yaml_deploys_this_folder_as_a_python_function_app() -> None:
    document = yaml.safe_load((ROOT / "azure.yaml").read_text(encoding="utf-8"))

    assert document["services"]["api"] == {"project": ".", "language": "python", "host": "function"}
    assert document["name"]


@pytest.mark.parametrize("left_out", ["infra/", "azure.yaml", ".azure/"])
def test_the_deployment_package_leaves_out_the_deployment_files(left_out: str) -> None:
    ignored = (ROOT / ".funcignore").read_text(encoding="utf-8").split()

    assert left_out in ignored


def test_the_host_and_the_python_worker_speak_opentelemetry() -> None:
    host = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))

    assert host["telemetryMode"] == "OpenTelemetry"
    assert app_settings()["PYTHON_ENABLE_OPENTELEMETRY"] == "true"
