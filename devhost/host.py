"""Assemble and run devhost for one function app: settings, functions, task hub, timers, HTTP.

Startup reads local.settings.json into the app settings (the environment wins, `--storage`
wins over both for AzureWebJobsStorage), imports and indexes the app, resumes unfinished
orchestrations, starts the timer triggers, and serves HTTP on 127.0.0.1. It logs one line
saying how strict it is (as Azure, or lenient) and, when it accepts connections, prints
exactly one line, `listening on http://127.0.0.1:PORT`. SIGTERM (or Ctrl-C) stops it cleanly.
Startup errors (no app, a bad host.json or schedule, unreachable storage) exit with code 2.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, fields, replace
from pathlib import Path

import uvicorn
from azure.core.exceptions import AzureError

from devhost.app_index import AppIndex, import_app, resolve_app_dir
from devhost.auth import HostKeys
from devhost.client_binding import DurableUrls
from devhost.host_config import (
    STORAGE_SETTING,
    ConfigError,
    HostConfig,
    Strictness,
    apply_app_settings,
    load_local_settings,
    read_host_config,
)
from devhost.http_server import HttpFront
from devhost.invoker import FunctionInvoker
from devhost.management_api import ManagementApi
from devhost.persistence import HubStore
from devhost.task_hub import TaskHub
from devhost.timer_triggers import TimerTriggers
from devhost.timers import TimerService

log = logging.getLogger("devhost")

QUIET_LOGGERS = ("azure", "urllib3", "uvicorn", "uvicorn.error", "uvicorn.access", "asyncio")


@dataclass(frozen=True)
class Options:
    """The command line: where to listen, which storage, which app, how strict."""

    port: int = 7071
    storage: str | None = None
    app_dir: Path | None = None
    app_module: str | None = None
    lenient: bool = False
    poll_ms: int = 0

    @property
    def strictness(self) -> Strictness:
        """Azure's strictness, or none with `lenient`; the queue-polling delay either way."""
        return Strictness.lenient(self.poll_ms) if self.lenient else Strictness(poll_ms=self.poll_ms)


def describe_strictness(strictness: Strictness, lenient: bool) -> str:
    """One line naming each behaviour of Azure and whether devhost models it."""
    parts = []
    for field in fields(strictness):
        value = getattr(strictness, field.name)
        if value is True:
            parts.append(field.name)
        elif value is False or value is None:
            parts.append(f"no {field.name}")
        else:
            parts.append(f"{field.name}={value}")
    return f"{'lenient' if lenient else 'as Azure'} ({', '.join(parts)})"


def configure_logging() -> None:
    """Host-style lines on stdout, in UTC; libraries only speak up about problems."""
    formatter = logging.Formatter("[%(asctime)s.%(msecs)03dZ] %(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


class StartupError(Exception):
    """devhost cannot start; the message says why."""


def run(options: Options) -> int:
    """Run devhost until SIGTERM; returns the process exit code."""
    try:
        config, index, storage = _load_app(options)
        keys = _host_keys(config)
        listener = listen(options.port)
        store = _open_store(storage, config.hub_name)
    except StartupError as error:
        log.error("devhost cannot start: %s", error)
        return 2
    log.info("devhost strictness: %s", describe_strictness(config.strictness, options.lenient))
    urls = DurableUrls(f"http://127.0.0.1:{listener.getsockname()[1]}", config.hub_name, keys.system)
    with ExitStack() as running:
        running.callback(store.close)
        invoker = FunctionInvoker(config, index, options.app_module)
        invoker.start()
        running.callback(invoker.stop)
        timers = TimerService()
        timers.start()
        running.callback(timers.stop)
        hub = TaskHub(index, store, invoker, timers, config)
        running.callback(hub.stop)
        front = HttpFront(index, invoker, ManagementApi(hub, urls), urls, config.route_prefix, keys)
        try:
            triggers = TimerTriggers(index.timers, invoker, timers, store, urls.client_binding())
        except ConfigError as error:
            log.error("devhost cannot start: %s", error)
            return 2
        running.callback(triggers.stop)
        resumed = hub.recover()
        if resumed:
            log.info("Resumed %d unfinished orchestration instance(s) of task hub %s", resumed, config.hub_name)
        triggers.start()
        _log_functions(index, front)
        _serve(front, listener, urls.base_url)
    return 0


def _load_app(options: Options) -> tuple[HostConfig, AppIndex, str]:
    """App settings, host configuration, the indexed app and the storage connection string."""
    try:
        app_dir = resolve_app_dir(options.app_dir, options.app_module)
        apply_app_settings(load_local_settings(app_dir))
        if options.storage:
            os.environ[STORAGE_SETTING] = options.storage
        storage = os.environ.get(STORAGE_SETTING)
        if not storage:
            raise ConfigError(f"no storage: pass --storage or set {STORAGE_SETTING}")
        config = replace(read_host_config(app_dir), strictness=options.strictness)
        return config, AppIndex.build(import_app(app_dir, options.app_module)), storage
    except ConfigError as error:
        raise StartupError(str(error)) from error


def _host_keys(config: HostConfig) -> HostKeys:
    try:
        return HostKeys.from_settings(os.environ, config.strictness.system_key)
    except ConfigError as error:
        raise StartupError(str(error)) from error


def listen(port: int) -> socket.socket:
    """The loopback listener of the HTTP front (port 0: any free one)."""
    try:
        listener = socket.create_server(("127.0.0.1", port))
    except OSError as error:
        raise StartupError(f"cannot listen on 127.0.0.1:{port}: {error}") from error
    # asyncio sets TCP_NODELAY only on sockets whose protocol is spelled out, which create_server's
    # is not; accepted connections inherit it from the listener. Without it a response written in
    # two parts (head, then body) waits for the client's delayed ACK: 40 ms on every kept-alive GET.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def _open_store(storage: str, hub_name: str) -> HubStore:
    store = HubStore(storage, hub_name)
    try:
        store.create()
    except AzureError as error:
        store.close()
        raise StartupError(f"cannot reach the storage account ({type(error).__name__})") from error
    return store


def _log_functions(index: AppIndex, front: HttpFront) -> None:
    log.info("Functions:")
    for line in front.function_urls():
        log.info("    %s", line)
    for timer in index.timers:
        log.info("    %s: timerTrigger", timer.name)
    for name in index.orchestrators:
        log.info("    %s: orchestrationTrigger", name)
    for name in index.activities:
        log.info("    %s: activityTrigger", name)


def _serve(front: HttpFront, listener: socket.socket, base_url: str) -> None:
    server = uvicorn.Server(uvicorn.Config(front.asgi_app(), log_level="warning", access_log=False, lifespan="off"))
    # uvicorn restores these handlers and re-raises the signal once it has shut down;
    # ignoring it then lets the cleanup after serving run.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)

    async def serve() -> None:
        async def announce() -> None:
            while not server.started and not server.should_exit:
                await asyncio.sleep(0.01)
            if server.started:
                print(f"listening on {base_url}", flush=True)

        await asyncio.gather(server.serve(sockets=[listener]), announce())

    asyncio.run(serve())
