"""Documents: a model spread over numbered string properties that each fit Table Storage."""

from __future__ import annotations

import pytest

from shared.errors import InvalidInput
from shared.models import Run
from shared.store.documents import CHUNK_CHARS, MAX_DOCUMENT_BYTES, document_properties, load_document


def run(message: str) -> Run:
    return Run.model_validate(
        {
            "runId": "run-1",
            "projectId": "accounts",
            "createdTime": "2024-05-01T12:00:00Z",
            "lastUpdatedTime": "2024-05-01T12:00:00Z",
            "message": message,
        }
    )


def test_a_small_model_is_one_property() -> None:
    assert list(document_properties(run("ok"), field="message")) == ["Json0"]


def test_a_long_model_is_split_into_ascii_chunks_and_joined_back() -> None:
    long = run("Grüße 🚀 " * 5_000)
    properties = document_properties(long, field="message")
    assert list(properties) == [f"Json{n}" for n in range(len(properties))]
    assert len(properties) > 1
    assert all(len(chunk) <= CHUNK_CHARS and chunk.isascii() for chunk in properties.values())
    assert load_document({"PartitionKey": "p", "RowKey": "r", **properties}, Run) == long


def test_a_model_too_large_for_an_entity_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        document_properties(run("x" * MAX_DOCUMENT_BYTES), field="message")
    assert raised.value.field == "message"
