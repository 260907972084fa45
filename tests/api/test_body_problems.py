"""A body's validation errors named by their JSON path, as the caller wrote it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.body_problems import body_problems, field_path
from shared.models import Connection, Consent, FieldMapping


def problems_of(model: type, body: dict) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(body)
    return body_problems(info.value)


def test_union_tags_and_python_names_leave_the_path() -> None:
    assert field_path(("tasks", 0, "sourceToCds", 1, "transforms", 0, "Default", "defaultValue")) == (
        "tasks.0.sourceToCds.1.transforms.0.defaultValue")
    assert field_path(("auth", "clientSecret", "tenantId")) == "auth.tenantId"
    assert field_path(("dataResidency", "from_")) == "dataResidency.from"


def test_a_field_problem_is_named_below_the_model_that_raised_it() -> None:
    found = problems_of(FieldMapping, {"source": "a", "target": "b", "transforms": [
        {"transformType": "ValueMap", "valueMap": {"x": 1}, "onUnmapped": "default"}]})
    assert found == [{"field": "transforms.0.defaultValue", "message": 'onUnmapped "default" needs a defaultValue'}]


def test_unknown_fields_and_unknown_kinds_are_named() -> None:
    assert problems_of(Consent, {"accepted": True, "acceptedBy": "a", "noticeVersion": "1", "extra": 1}) == [
        {"field": "extra", "message": "unknown field"}]
    found = problems_of(Connection, {"kind": "dataverse", "url": "https://org.example", "auth": {"type": "basic"}})
    assert [p["field"] for p in found] == ["auth.type"]
