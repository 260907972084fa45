"""Import a function app and index its functions, once, the way the Python worker does.

`app.get_functions()` may be called only once per app object (a second call fails on
duplicate names), so an AppIndex is built once and handed to whoever needs the functions.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import azure.functions as func

from devhost.host_config import ConfigError

log = logging.getLogger("devhost")

DEFAULT_MODULE = "function_app"
APP_FILE = DEFAULT_MODULE + ".py"
PROVIDED_BINDINGS = frozenset({"durableClient", "http"})


@dataclass(frozen=True)
class IndexedFunction:
    """One function of the app and how the host binds its parameters."""

    name: str
    function: Callable[..., Any]
    trigger_param: str
    client_params: tuple[str, ...]
    wants_context: bool

    @property
    def is_async(self) -> bool:
        """Whether the function is a coroutine function (run on the event loop)."""
        return inspect.iscoroutinefunction(self.function)


@dataclass(frozen=True)
class HttpFunction(IndexedFunction):
    """An HTTP-triggered function: its route template, methods (None: any) and auth level."""

    route: str
    methods: frozenset[str] | None
    auth_level: str


@dataclass(frozen=True)
class TimerFunction(IndexedFunction):
    """A timer-triggered function and its schedule as written (may hold `%Setting%`)."""

    schedule: str
    run_on_startup: bool
    use_monitor: bool | None


@dataclass(frozen=True)
class AppIndex:
    """The app's functions by kind; orchestrators and activities by the name callers use."""

    http: tuple[HttpFunction, ...]
    timers: tuple[TimerFunction, ...]
    orchestrators: dict[str, IndexedFunction]
    activities: dict[str, IndexedFunction]

    @classmethod
    def build(cls, app: func.FunctionRegister) -> AppIndex:
        """Index `app`; call it once per app object."""
        http: list[HttpFunction] = []
        timers: list[TimerFunction] = []
        orchestrators: dict[str, IndexedFunction] = {}
        activities: dict[str, IndexedFunction] = {}
        for function in app.get_functions():
            bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
            trigger = next(b for b in bindings if b["type"].lower().endswith("trigger"))
            base = _indexed(function, trigger, bindings)
            kind = trigger["type"]
            for binding in bindings:
                if binding is not trigger and binding["type"] not in PROVIDED_BINDINGS:
                    log.warning("Function '%s' has a %s binding, which devhost does not provide",
                                base.name, binding["type"])
            if kind == "httpTrigger":
                methods = trigger.get("methods")
                http.append(HttpFunction(
                    **vars(base),
                    route=trigger.get("route") or base.name,
                    methods=frozenset(m.upper() for m in methods) if methods else None,
                    auth_level=str(trigger.get("authLevel", "function")).lower(),
                ))
            elif kind == "timerTrigger":
                timers.append(TimerFunction(
                    **vars(base),
                    schedule=trigger["schedule"],
                    run_on_startup=bool(trigger.get("runOnStartup", False)),
                    use_monitor=trigger.get("useMonitor"),
                ))
            elif kind == "orchestrationTrigger":
                # The SDK wraps the orchestrator in a handler whose one parameter takes the context.
                handler_param = next(iter(inspect.signature(base.function).parameters))
                orchestrators[trigger.get("orchestration") or base.name] = replace(
                    base, trigger_param=handler_param, wants_context=False
                )
            elif kind == "activityTrigger":
                activities[trigger.get("activity") or base.name] = base
            else:
                log.warning("Function '%s' has a %s, which devhost does not run", base.name, kind)
        return cls(tuple(http), tuple(timers), orchestrators, activities)


def _indexed(function: Any, trigger: dict[str, Any], bindings: list[dict[str, Any]]) -> IndexedFunction:
    user_function = function.get_user_function()
    parameters = inspect.signature(user_function).parameters
    return IndexedFunction(
        name=function.get_function_name(),
        function=user_function,
        trigger_param=trigger["name"],
        client_params=tuple(b["name"] for b in bindings if b["type"] == "durableClient"),
        wants_context="context" in parameters and trigger["name"] != "context",
    )


def resolve_app_dir(app_dir: Path | None, module: str | None) -> Path:
    """The app's root folder (host.json, local.settings.json): app_dir, or the app module's folder.

    A folder (given, or the current one) must hold function_app.py: devhost serves only the
    app it is given, never one it happens to find on the import path.
    """
    if module is None:
        folder = (app_dir or Path.cwd()).resolve()
        if not (folder / APP_FILE).is_file():
            raise ConfigError(f"{folder} has no {APP_FILE}: pass the folder of a function app (--app-dir) "
                              "or its module (--app)")
        return folder
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ConfigError(f"cannot find the app module {module!r}")
    return Path(spec.origin).resolve().parent


def import_app(app_dir: Path, module: str | None) -> func.FunctionRegister:
    """Import `module`, or function_app from app_dir, and return the FunctionApp it defines.

    For a folder, the folder goes first on the import path, as the Python worker puts the
    app's root there: the app's own top-level packages are found before any other.
    """
    if module is None:
        sys.path.insert(0, str(app_dir))
        module = DEFAULT_MODULE
        loaded = importlib.import_module(module)
        origin = Path(loaded.__file__ or "").resolve()
        if origin != (app_dir / APP_FILE).resolve():
            raise ConfigError(f"{module} was imported from {origin}, not from {app_dir}")
    else:
        loaded = importlib.import_module(module)
    apps = [value for value in vars(loaded).values() if isinstance(value, func.FunctionRegister)]
    if len(apps) != 1:
        raise ConfigError(f"{module} must define exactly one FunctionApp at module level, found {len(apps)}")
    return apps[0]
