"""The whole local twin in one call: Azurite, the three sandbox systems, and devhost over them.

    with LocalTwin.start(records=2000) as twin:
        twin.api("PUT", "connections/sales", json={...})

Used by `make demo`, `make up`, the end-to-end tests and the benchmarks. Each twin has its
own task hub and table prefix, so several can share one Azurite.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet

from devhost import azurite
from devhost.auth import SYSTEM_KEY_SETTING
from devhost.process import DevhostProcess, start_devhost
from sandbox.process import SandboxProcess, start_sandbox
from shared.connection_rules import ALLOW_UNAUTHENTICATED_SETTING
from shared.settings import SUBSCRIPTION_KEY_SETTING

SYSTEMS = {"sales": "dataverse", "cds": "dataverse", "operations": "finops"}


@dataclass
class LocalTwin:
    storage: str
    systems: dict[str, SandboxProcess]
    host: DevhostProcess
    hub: str
    table_prefix: str
    env: dict[str, str]
    lenient: bool = False
    poll_ms: int = 0
    session: requests.Session = field(default_factory=requests.Session)

    @classmethod
    @contextmanager
    def start(
        cls,
        records: int = 1000,
        dataset: bool = True,
        storage: str | None = None,
        knobs: dict[str, dict[str, Any]] | None = None,
        log_dir: Path | None = None,
        settings: dict[str, str] | None = None,
        lenient: bool = False,
        poll_ms: int = 0,
    ) -> Iterator[LocalTwin]:
        """Start every part and stop them all after.

        Azurite starts only when no `storage` connection string is given. With `dataset`, Sales and
        Operations hold the prospect-to-cash sample data (`records` accounts); CDS starts empty.
        `settings` are extra app settings for devhost; `lenient` and `poll_ms` are its `--lenient`
        and `--poll-ms`.
        """
        with ExitStack() as stack:
            if storage is None:
                server = azurite.start()
                stack.callback(server.stop)
                storage = server.connection_string
            systems = {}
            for name, kind in SYSTEMS.items():
                options: dict[str, Any] = dict((knobs or {}).get(name, {}))
                if name == "operations":
                    options.update(companies=["usmf", "usrt"])
                if dataset and name != "cds":
                    options.update(dataset="prospect-to-cash", records=records)
                systems[name] = stack.enter_context(start_sandbox(kind, **options))
            suffix = uuid.uuid4().hex[:8]
            # the sandbox systems take no credentials, and blob connections use the twin's own Azurite
            env = {"TaskHubName": f"twin{suffix}", "DI_TABLE_PREFIX": f"twin{suffix}", "AzureWebJobsStorage": storage,
                   ALLOW_UNAUTHENTICATED_SETTING: "true", SUBSCRIPTION_KEY_SETTING: Fernet.generate_key().decode(),
                   **(settings or {})}
            host = cls._devhost(storage, env, log_dir, lenient, poll_ms)
            twin = cls(storage, systems, host, env["TaskHubName"], env["DI_TABLE_PREFIX"], env, lenient, poll_ms)
            stack.callback(lambda: twin.host.stop())
            yield twin

    @staticmethod
    def _devhost(storage: str, env: dict[str, str], log_dir: Path | None, lenient: bool, poll_ms: int
                 ) -> DevhostProcess:
        log_path = log_dir / "devhost.log" if log_dir else None
        return start_devhost(storage, env=env, log_path=log_path, lenient=lenient, poll_ms=poll_ms)

    def restart_devhost(self, kill: bool = True) -> None:
        """Stop devhost (SIGKILL, as a crash would, unless `kill` is False) and start it again on the same storage.

        It keeps its system key, as an app on Azure does, so management URLs handed out before still work.
        """
        if kill:
            self.host.kill()
        else:
            self.host.stop()
        env = {**self.env, SYSTEM_KEY_SETTING: self.host.system_key}
        self.host = self._devhost(self.storage, env, None, self.lenient, self.poll_ms)

    @property
    def url(self) -> str:
        return self.host.url

    @property
    def dashboard_url(self) -> str:
        """The operator dashboard, with the function key as `?code=` so a browser can open it as it is."""
        return f"{self.host.url}/api/ui?code={self.host.key}"

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the app's HTTP API with the function key."""
        headers = {"x-functions-key": self.host.key, **kwargs.pop("headers", {})}
        return self.session.request(method, f"{self.host.url}/api/{path}", headers=headers, timeout=60, **kwargs)

    def connect_all(self) -> None:
        """Create one connection per sandbox system, named after it (sales, cds, operations)."""
        for name, system in self.systems.items():
            body = {"kind": system.kind, "url": system.url, "auth": {"type": "none"}}
            self.api("PUT", f"connections/{name}", json=body).raise_for_status()

    def follow(self, response: requests.Response, timeout_s: float = 600.0, on_poll: Any = None) -> dict[str, Any]:
        """The asynchronous polling pattern: follow Location, honouring Retry-After, until 200."""
        deadline = time.monotonic() + timeout_s
        while response.status_code == 202:
            if time.monotonic() > deadline:
                raise TimeoutError(f"still running after {timeout_s} s: {response.text[:500]}")
            time.sleep(float(response.headers.get("Retry-After", "1")))
            response = self.session.get(
                response.headers["Location"], headers={"x-functions-key": self.host.key}, timeout=60
            )
            if on_poll is not None:
                on_poll(response.json())
        response.raise_for_status()
        return response.json()

    def records(self, system: str, entity_set: str) -> list[dict[str, Any]]:
        """Everything a sandbox system holds in one entity set (its admin dump)."""
        found = self.session.get(f"{self.systems[system].url}/_sandbox/records/{entity_set}", timeout=120)
        found.raise_for_status()
        return found.json()

    def records_written(self, system: str) -> int:
        """How many records a sandbox system has had written to it so far."""
        stats = self.session.get(f"{self.systems[system].url}/_sandbox/stats", timeout=30)
        stats.raise_for_status()
        return int(stats.json()["records_written"])
