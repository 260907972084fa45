"""Call the app's HTTP functions in-process, over a real Azurite, with a table prefix per test."""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from dataclasses import dataclass
from typing import Any

import azure.functions as func
import pytest


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    mimetype: str


class Api:
    def __init__(self, functions: dict[str, Any]) -> None:
        self._functions = functions

    def __call__(
        self, function: str, method: str, path: str, body: Any = None, *,
        route: dict[str, str] | None = None, headers: dict[str, str] | None = None, raw: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        request = func.HttpRequest(
            method, f"http://127.0.0.1:7071/api/{path}", headers=headers or {}, route_params=route or {}, body=data,
            params=params or {},
        )
        result = self._functions[function].get_user_function()(request)
        response = asyncio.run(result) if inspect.iscoroutine(result) else result
        text = response.get_body()
        return Answer(
            response.status_code, dict(response.headers), json.loads(text) if text else None, response.mimetype
        )


@pytest.fixture
def api(functions: dict[str, Any], storage_connection_string: str, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    monkeypatch.setenv("DI_TABLE_PREFIX", "t" + uuid.uuid4().hex[:10])
    return Api(functions)
