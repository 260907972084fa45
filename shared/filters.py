"""What a source filter (an OData `$filter`) refers to, so it can be checked against the entity.

Only the names are needed, so the expression is tokenized, not evaluated: string literals
(with doubled quotes), F&O enum literals (`Microsoft.Dynamics.DataEntities.NoYes'Yes'`),
numbers, GUIDs and dates are dropped, and so are operators, keywords and function names.
"""

from __future__ import annotations

import re

_STRING = re.compile(r"(?:[A-Za-z_][\w.]*)?'(?:[^']|'')*'")
_NAME = re.compile(r"(?<![\w.])([A-Za-z_][\w]*(?:/[A-Za-z_]\w*)*)(\s*\()?")
_TEMPORAL = re.compile(r"\b\d[\d:.\-TZ+]*\b")
KEYWORDS = frozenset({
    "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "has", "in", "true", "false", "null",
    "add", "sub", "mul", "div", "mod",
})


def filter_fields(expression: str) -> set[str]:
    """The first segment of every property path in `expression` (`primarycontactid/fullname` -> `primarycontactid`)."""
    text = _TEMPORAL.sub(" ", _STRING.sub(" ", expression))
    names = set()
    for match in _NAME.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.casefold() in KEYWORDS:
            continue
        names.add(name.split("/", 1)[0])
    return names
