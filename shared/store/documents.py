"""A pydantic model kept as its JSON in table properties `Json0`, `Json1`, … of one entity.

A string property holds at most 64 KiB (32K UTF-16 units) and an entity at most 1 MiB, so
the JSON is written ASCII-only (every character one UTF-16 unit, two bytes), cut into
chunks of CHUNK_CHARS, and refused when it would not fit in one entity.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from itertools import count, takewhile
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.errors import Conflict, InvalidInput

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


class UnreadableDocument(Conflict):
    """A stored document that no longer reads as its model (stored by an older version, or altered in
    storage): one item's problem, never the whole list's. It can be deleted and created again."""

    kind = "document"
    title = "Stored document cannot be read"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{self.kind} {name!r} is stored in a form this version cannot read: delete it and create it again",
            field="name",
        )
        self.name = name


def load_readable(entity: Mapping[str, Any], model: type[M], unreadable: type[UnreadableDocument], name: str) -> M:
    """`load_document`, or `unreadable(name)` when the stored JSON no longer validates as `model`."""
    try:
        return load_document(entity, model)
    except ValidationError as exc:
        # the errors' input values are business data: only where they are goes to the log
        where = [".".join(str(part) for part in error["loc"]) for error in exc.errors(include_input=False)[:3]]
        logging.getLogger(__name__).warning("%s %r does not read at %s", unreadable.kind, name, ", ".join(where))
        raise unreadable(name) from None
