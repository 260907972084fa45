"""The input bounds of shared/limits.py: depth read from the raw text, sizes from the parsed JSON."""

from __future__ import annotations

import json
import sys

import pytest

from shared.errors import InvalidInput
from shared.limits import (
    MAX_ARRAY_ITEMS,
    MAX_JSON_DEPTH,
    MAX_OBJECT_MEMBERS,
    MAX_STRING_CHARS,
    check_json_depth,
    check_sizes,
    value_depth,
)


def nested(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + closing * depth


def test_depth_up_to_the_bound_passes() -> None:
    check_json_depth(nested(MAX_JSON_DEPTH))
    check_json_depth(nested(MAX_JSON_DEPTH // 2, '{"a":', "}"))


@pytest.mark.parametrize("text", [nested(MAX_JSON_DEPTH + 1), nested(sys.getrecursionlimit() * 10, '{"a":', "}")])
def test_depth_past_the_bound_is_refused_before_parsing(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_json_depth(text)
    assert raised.value.field == "body"


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"pattern": "[" * 500, "escaped": '\\"[[[' + "{" * 100})
    check_json_depth(text)


def test_sizes_name_the_path_of_what_is_too_large() -> None:
    cases = [
        ({"tasks": [{"name": "x" * (MAX_STRING_CHARS + 1)}]}, "tasks.0.name"),
        ({"tasks": [0] * (MAX_ARRAY_ITEMS + 1)}, "tasks"),
        ({"map": {str(n): n for n in range(MAX_OBJECT_MEMBERS + 1)}}, "map"),
        ({"x" * (MAX_STRING_CHARS + 1): 1}, "body"),
    ]
    for data, field in cases:
        with pytest.raises(InvalidInput) as raised:
            check_sizes(data)
        assert raised.value.field == field


def test_sizes_within_the_bounds_pass() -> None:
    check_sizes({"tasks": [{"name": "x" * MAX_STRING_CHARS}], "list": [0] * MAX_ARRAY_ITEMS})


@pytest.mark.parametrize(
    ("value", "depth"),
    [("x", 0), (None, 0), ([], 1), ({}, 1), ([1, [2, {"a": [3]}]], 4), ({"a": 1, "b": {"c": {}}}, 3)],
)
def test_value_depth_counts_objects_and_arrays(value: object, depth: int) -> None:
    assert value_depth(value) == depth


def test_value_depth_reads_values_deeper_than_the_recursion_limit() -> None:
    value: object = 1
    for _ in range(sys.getrecursionlimit() * 2):
        value = [value]
    assert value_depth(value) == sys.getrecursionlimit() * 2
