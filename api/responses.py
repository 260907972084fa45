"""JSON responses and the per-process Store the routes share."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from shared.settings import storage_settings
from shared.store import Store, store_for


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body, ensure_ascii=False, default=str), status_code=status, mimetype="application/json",
        charset="utf-8", headers=headers or {},
    )


def store() -> Store:
    """The Store of the current storage settings, shared by the process's requests."""
    return store_for(storage_settings())


def utc_now() -> datetime:
    return datetime.now(UTC)
