"""The committed JSON Schema matches the model, and it accepts and rejects what the model does."""

from __future__ import annotations

import json

from shared.schema import SCHEMA_PATH, render


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), "mappings/schema/project.schema.json is stale: run `make schema`"


def test_schema_forbids_unknown_fields_and_names_transform_types() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    assert schema["additionalProperties"] is False
    assert defs["Task"]["additionalProperties"] is False
    assert defs["DefaultTransform"]["properties"]["transformType"]["const"] == "Default"
    assert defs["ValueMapTransform"]["properties"]["transformType"]["const"] == "ValueMap"
    assert set(schema["required"]) == {"name", "connections", "tasks"}
