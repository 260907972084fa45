"""The bounds every input is held to, in one place, and the checks that apply them.

A request body is checked twice: its nesting depth on the raw text, before `json.loads`
recurses into it (a body nested past Python's recursion limit would otherwise crash the
parser), then its strings, arrays and objects once parsed. The models hold their own
fields to the finer bounds below (tasks per project, mappings per leg, transforms per
mapping, value-map entries), so a definition that reaches the store from anywhere else is
held to them too. Every check raises `InvalidInput` naming the JSON path of what is too
large, before anything is stored.
"""

from __future__ import annotations

import re
from typing import Any

from shared.errors import InvalidInput

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 32
"""Objects and arrays inside one another in a request body; a project definition needs about ten."""
MAX_VALUE_DEPTH = 8
"""Objects and arrays inside a value a definition gives (`defaultValue`, `valueMap` entries, `then`, `else`)."""
MAX_STRING_CHARS = 100_000
MAX_ARRAY_ITEMS = 10_000
MAX_OBJECT_MEMBERS = 10_000

MAX_TASKS = 100
MAX_MAPPINGS_PER_LEG = 500
MAX_TRANSFORMS_PER_MAPPING = 32
MAX_VALUE_MAP_ENTRIES = 10_000
MAX_PATTERN_CHARS = 1_000
MAX_TRANSFORMED_TEXT_CHARS = 1_000_000
"""Longest text a text transform takes or gives; a longer one fails its record on its field."""

_BRACKET_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def check_json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON text whose objects and arrays nest deeper than `limit`, without parsing it.

    Brackets inside strings do not count; the text need not be valid JSON (the parser
    that runs afterwards says what is wrong with it).
    """
    depth = 0
    for token in _BRACKET_OR_STRING.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                raise InvalidInput(
                    f"the body nests objects and arrays {limit + 1} or more deep, at most {limit}", field="body"
                )
        elif bracket in ("]", "}"):
            depth -= 1


def check_sizes(data: Any, path: str = "body") -> None:
    """Refuse parsed JSON holding a string, an array or an object larger than the bounds, naming it."""
    if isinstance(data, str):
        if len(data) > MAX_STRING_CHARS:
            raise InvalidInput(f"text longer than {MAX_STRING_CHARS} characters", field=path)
        return
    if isinstance(data, dict):
        if len(data) > MAX_OBJECT_MEMBERS:
            raise InvalidInput(f"an object with more than {MAX_OBJECT_MEMBERS} members", field=path)
        items = [(str(key), value) for key, value in data.items()]
        for key, _ in items:
            if len(key) > MAX_STRING_CHARS:
                raise InvalidInput(f"a property name longer than {MAX_STRING_CHARS} characters", field=path)
    elif isinstance(data, list):
        if len(data) > MAX_ARRAY_ITEMS:
            raise InvalidInput(f"an array with more than {MAX_ARRAY_ITEMS} items", field=path)
        items = [(str(n), value) for n, value in enumerate(data)]
    else:
        return
    for key, value in items:
        check_sizes(value, key if path == "body" else f"{path}.{key}")


def value_depth(value: Any) -> int:
    """How deep objects and arrays nest in `value` (0 for a scalar), counted without recursion."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
    return deepest
