"""The durable client binding and the management URLs, shaped as the Durable extension shapes them.

A function with a `durableClient` input receives a JSON string that the unchanged
`azure-functions-durable` client parses: the task hub, the creation and management URL
templates (with `code=` for the system key, as on Azure), and `rpcBaseUrl`, where the client
sends start, status, raise-event, terminate and purge calls.

The webhook URLs live under `/runtime/webhooks/durabletask` and need the system key. The RPC
base stands for the extension's loopback-only RPC endpoint, which on Azure only the worker
can reach. The SDK sends nothing but the URL to it (no `code`, no key header: it appends
paths and its own query strings to `rpcBaseUrl`), so devhost puts the system key in the RPC
base's path, `/durabletask/{systemKey}/`: only a holder of the binding can call it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

WEBHOOK_PATH = "/runtime/webhooks/durabletask"
RPC_PATH = "/durabletask"
CONNECTION_NAME = "Storage"
INSTANCE_PLACEHOLDER = "INSTANCEID"


@dataclass(frozen=True)
class DurableUrls:
    """URLs of one devhost (base like http://127.0.0.1:7071) for one task hub and its system key."""

    base_url: str
    hub_name: str
    system_key: str

    def __repr__(self) -> str:
        return f"DurableUrls(base_url={self.base_url!r}, hub_name={self.hub_name!r}, system_key=...)"

    @property
    def webhook_base(self) -> str:
        """The base of the management webhooks (system key required)."""
        return self.base_url + WEBHOOK_PATH

    @property
    def rpc_base(self) -> str:
        """The durable client's RPC base, holding the system key, with its trailing slash."""
        return f"{self.base_url}{RPC_PATH}/{quote(self.system_key, safe='')}/"

    def _query(self) -> str:
        return f"taskHub={quote(self.hub_name)}&connection={CONNECTION_NAME}&code={quote(self.system_key, safe='')}"

    def management_payload(self, instance_id: str) -> dict[str, str]:
        """The httpManagementPayload of an instance: its id and the URLs that manage it."""
        instance = self.webhook_base + "/instances/" + (
            instance_id if instance_id == INSTANCE_PLACEHOLDER else quote(instance_id, safe=":@")
        )
        query = self._query()
        return {
            "id": instance_id,
            "statusQueryGetUri": f"{instance}?{query}",
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
            "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
            "purgeHistoryDeleteUri": f"{instance}?{query}",
            "restartPostUri": f"{instance}/restart?{query}",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
            "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
        }

    def client_binding(self) -> str:
        """The JSON string passed for a `durableClient` input binding."""
        code = quote(self.system_key, safe="")
        orchestrators = self.webhook_base + "/orchestrators/{functionName}[/{instanceId}]"
        return json.dumps({
            "taskHubName": self.hub_name,
            "creationUrls": {
                "createNewInstancePostUri": f"{orchestrators}?code={code}",
                "createAndWaitOnNewInstancePostUri":
                    f"{orchestrators}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&code={code}",
            },
            "managementUrls": self.management_payload(INSTANCE_PLACEHOLDER),
            "baseUrl": self.webhook_base,
            "requiredQueryStringParameters": f"code={code}",
            "rpcBaseUrl": self.rpc_base,
            "httpBaseUrl": self.webhook_base,
        })
