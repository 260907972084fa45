"""The OData actions of F&O's `/data/` that describe the environment itself.

F&O publishes actions bound to entity collections as
`POST /data/{EntitySet}/Microsoft.Dynamics.DataEntities.{Action}` ("Open Data Protocol (OData)",
Finance & Operations docs, section on actions: an action is invoked with POST and answers
`{"@odata.context": ..., "value": ...}`). The ones a client calls to learn what it talks to:

- `DataManagementEntities/...GetApplicationVersion` and `...GetPlatformBuildVersion`: the
  application and platform build numbers (strings);
- `SystemNotifications/...GetInstalledModules`: one string per installed module,
  `Name: … | Version: … | Module: … | Publisher: … | DisplayName: …`.

d365fo-client calls all three to detect the environment's version before it caches metadata.
The sandbox reports its own release as one module; the numbers are those of the F&O release
whose behaviour the sandbox follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NAMESPACE = "Microsoft.Dynamics.DataEntities"
APPLICATION_VERSION = "10.0.44"
PLATFORM_BUILD_VERSION = "7.0.7690.21"


@dataclass(frozen=True)
class Action:
    """An action bound to an entity collection: its return type and how to compute its value."""

    return_type: str
    result: Callable[[], Any]


def _installed_modules() -> list[str]:
    return [
        f"Name: Sandbox | Version: {APPLICATION_VERSION} | Module: Sandbox | Publisher: Sandbox | "
        "DisplayName: Finance and operations sandbox"
    ]


ACTIONS: dict[tuple[str, str], Action] = {
    ("DataManagementEntities", "GetApplicationVersion"): Action("Edm.String", lambda: APPLICATION_VERSION),
    ("DataManagementEntities", "GetPlatformBuildVersion"): Action("Edm.String", lambda: PLATFORM_BUILD_VERSION),
    ("SystemNotifications", "GetInstalledModules"): Action("Collection(Edm.String)", _installed_modules),
}


def find(entity_set: str, segment: str) -> Action | None:
    """The action a `{EntitySet}/{Namespace}.{Action}` path names, if the sandbox has it."""
    namespace, _, name = segment.rpartition(".")
    if namespace != NAMESPACE:
        return None
    return ACTIONS.get((entity_set, name))
