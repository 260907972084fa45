"""Reversible, collision-free encoding of any string into a Table Storage PartitionKey or RowKey.

Table keys may not hold `/ \\ # ?` or control characters, and dropping them would let two
names collide. So `[A-Za-z0-9._-]` stay as they are and every other UTF-8 byte, including
those of the escape character `~` itself, becomes `~` plus two uppercase hex digits:
`"a/b"` -> `"a~2Fb"`, `"~"` -> `"~7E"`, `"é"` -> `"~C3~A9"`. Composite keys join encoded
parts with `!`, which an encoded part never contains.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from urllib.parse import unquote_to_bytes

from shared.errors import KeyTooLong

MAX_KEY_LENGTH = 512
"""Table keys are at most 1 KiB of UTF-16, and encoded keys are ASCII."""

SEPARATOR = "!"

_KEPT = frozenset((string.ascii_letters + string.digits + "._-").encode())
_BYTE_TEXT = tuple(chr(b) if b in _KEPT else f"~{b:02X}" for b in range(256))
_ENCODED = re.compile(r"(?:[A-Za-z0-9._-]|~[0-9A-F]{2})*")


def encode_key(value: str, *, field: str = "key") -> str:
    """`value` as a storage key; raises KeyTooLong naming `field` when it does not fit."""
    return _fitting(_encode(value), field)


def decode_key(key: str) -> str:
    """The string that `encode_key` turned into `key`; ValueError if no string encodes to `key`."""
    if _ENCODED.fullmatch(key) is None:
        raise ValueError(f"{key!r} is not an encoded key")
    value = unquote_to_bytes(key.replace("~", "%")).decode("utf-8", "surrogatepass")
    if _encode(value) != key:
        raise ValueError(f"{key!r} is not the canonical encoding of {value!r}")
    return value


def encode_composite(parts: Sequence[str], *, field: str = "key") -> str:
    """Several strings as one storage key, each part encoded, joined by SEPARATOR."""
    if not parts:
        raise ValueError("a composite key needs at least one part")
    return _fitting(SEPARATOR.join(_encode(part) for part in parts), field)


def decode_composite(key: str) -> list[str]:
    """The parts that `encode_composite` joined into `key`."""
    return [decode_key(part) for part in key.split(SEPARATOR)]


def _encode(value: str) -> str:
    # surrogatepass: a lone surrogate (valid in JSON, so possible in a business key) round-trips too
    return "".join(_BYTE_TEXT[b] for b in value.encode("utf-8", "surrogatepass"))


def _fitting(key: str, field: str) -> str:
    if len(key) > MAX_KEY_LENGTH:
        raise KeyTooLong(
            f"{field} is too long for a storage key: {len(key)} characters once encoded, at most {MAX_KEY_LENGTH}",
            field=field,
        )
    return key
