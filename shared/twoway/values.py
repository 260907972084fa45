"""How a baseline keeps a field's value, and how a value read later is compared with it.

Values compare in JSON terms: `1` and `1.0` are the same number, `true` is not `1`, strings
compare exactly, object keys in any order. A value whose compact JSON is longer than
STORED_CHARS is kept only as the SHA-256 of that JSON (`{"sha256": hex}`): enough to tell
whether it changed, small enough for a table row. A value that is not JSON (a Lookup's
reference, resolved only when written) compares by its `repr`, so it never equals a value
read from a system.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

STORED_CHARS = 1024
"""The longest compact JSON a baseline keeps as the value itself; longer values are kept as their hash."""
HASH = "sha256"

Stored = Any
"""A field's value as a baseline keeps it: the JSON value itself, or `{"sha256": hex}` of its compact JSON."""


def canonical(value: Any) -> Any:
    """`value` as plain JSON data that compares as JSON does: whole floats become ints, tuples lists."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else value
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return repr(value)


def compact(value: Any) -> str:
    """The compact JSON of `value`'s canonical form (object keys sorted, unicode as is)."""
    return json.dumps(canonical(value), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def stored(value: Any) -> Stored:
    """What a baseline keeps of `value`: the value (canonical) or, past STORED_CHARS, the hash of its JSON."""
    text = compact(value)
    if len(text) > STORED_CHARS:
        return {HASH: _digest(text)}
    return canonical(value)


def same(value: Any, kept: Stored) -> bool:
    """Whether `value` is what the baseline kept as `kept` (a value `stored` returned)."""
    if value is None or (value.__class__ is str and kept.__class__ is str):
        return value == kept  # the common cases, without JSON: a long string is never kept as a string
    text = compact(value)
    if is_hash(kept):
        return kept[HASH] == _digest(text)
    return len(text) <= STORED_CHARS and text == compact(kept)


def hashed(kept: dict[str, Stored], most_bytes: int) -> dict[str, Stored]:
    """`kept` (a side's fields) with its longest values replaced by their hashes until its JSON takes at most
    `most_bytes` in UTF-16 (Table Storage's measure of a text column); `same` compares either form."""
    fitted = dict(kept)
    longest = sorted((name for name in kept if not is_hash(kept[name])), key=lambda n: -len(compact(kept[n])))
    for name in longest:
        if _utf16_bytes(json.dumps(fitted, ensure_ascii=False, separators=(",", ":"))) <= most_bytes:
            break
        fitted[name] = {HASH: _digest(compact(kept[name]))}
    return fitted


def _utf16_bytes(text: str) -> int:
    return len(text.encode("utf-16-le"))


def equal(first: Any, second: Any) -> bool:
    """Whether two values are the same in JSON terms."""
    if first is None or second is None or (first.__class__ is str and second.__class__ is str):
        return first == second
    return compact(first) == compact(second)


def shown(kept: Stored) -> Any:
    """A kept value as a person may see it: None when only its hash was kept."""
    return None if is_hash(kept) else kept


def is_hash(kept: Stored) -> bool:
    return isinstance(kept, dict) and len(kept) == 1 and HASH in kept


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
