"""A pydantic model kept as its JSON in table properties `Json0`, `Json1`, … of one entity.

A string property holds at most 64 KiB (32K UTF-16 units) and an entity at most 1 MiB, so
the JSON is written ASCII-only (every character one UTF-16 unit, two bytes), cut into
chunks of CHUNK_CHARS, and refused when it would not fit in one entity.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import count, takewhile
from typing import Any, TypeVar

from pydantic import BaseModel

from shared.errors import InvalidInput

CHUNK_CHARS = 30_000
MAX_DOCUMENT_BYTES = 900_000
"""Leaves room in the 1 MiB entity for its keys and other properties."""

_PROPERTY = "Json"

M = TypeVar("M", bound=BaseModel)


def document_properties(model: BaseModel, *, field: str) -> dict[str, str]:
    """The properties holding `model`; raises InvalidInput naming `field` when it is too large."""
    text = json.dumps(model.model_dump(mode="json", by_alias=True), ensure_ascii=True, separators=(",", ":"))
    size = 2 * len(text)
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidInput(
            f"{type(model).__name__} is too large to store: {size} bytes, at most {MAX_DOCUMENT_BYTES}", field=field
        )
    return {
        f"{_PROPERTY}{n}": text[start : start + CHUNK_CHARS] for n, start in enumerate(range(0, len(text), CHUNK_CHARS))
    }


def load_document(entity: Mapping[str, Any], model: type[M]) -> M:
    """The model whose JSON `document_properties` spread over `entity`."""
    chunks = takewhile(lambda chunk: chunk is not None, (entity.get(f"{_PROPERTY}{n}") for n in count()))
    return model.model_validate_json("".join(chunks))
