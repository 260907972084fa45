"""The names a filter refers to, read from any text, even one that does not parse."""

from __future__ import annotations

import re

from shared.filters.parser import parse_filter
from shared.filters.syntax import KEYWORDS, FilterSyntaxError

_STRING = re.compile(r"(?:[A-Za-z_][\w.]*)?'(?:[^']|'')*'")
_NAME = re.compile(r"(?<![\w.])([A-Za-z_][\w]*(?:/[A-Za-z_]\w*)*)(\s*\()?")
_TEMPORAL = re.compile(r"\b\d[\d:.\-TZ+]*\b")


def filter_fields(expression: str) -> set[str]:
    """The first segment of every property path in `expression` (`primarycontactid/fullname` -> `primarycontactid`).

    A well-formed filter gives the fields of `parse_filter`; any other text is only tokenized, so
    that the checks before a run can still name what it refers to.
    """
    try:
        return set(parse_filter(expression).fields)
    except FilterSyntaxError:
        return _names(expression)


def _names(expression: str) -> set[str]:
    text = _TEMPORAL.sub(" ", _STRING.sub(" ", expression))
    names = set()
    for match in _NAME.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.casefold() in KEYWORDS:
            continue
        names.add(name.split("/", 1)[0])
    return names
