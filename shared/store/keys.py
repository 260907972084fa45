"""Collision-free encoding of any string, of any length, into a Table Storage key or a blob name segment.

Table keys may not hold `/ \\ # ?` or control characters, and dropping them would let two
names collide. So `[A-Za-z0-9._-]` stay as they are and every other UTF-8 byte, including
those of the escape character `~` itself, becomes `~` plus two uppercase hex digits:
`"a/b"` -> `"a~2Fb"`, `"~"` -> `"~7E"`, `"é"` -> `"~C3~A9"`. Composite keys join encoded
parts with `!`, which an encoded part never contains.

A key is at most MAX_KEY_LENGTH characters (PartitionKey and RowKey hold 1 KiB), and an
encoding can be nine times longer than its string (`"表"` -> `"~E8~A1~A8"`). An encoding that
would not fit is shortened: as many whole characters of it as fit, then `~~` and the SHA-256
of the whole encoding. A plain encoding never holds `~~` (every `~` in it starts an escape),
so a shortened key collides neither with a plain one nor, short of a SHA-256 collision, with
another shortened one. A shortened key cannot be decoded: whatever must be read back keeps
its original next to the key (a document property, a record field).

Blob name segments are encoded the same way, except that trailing dots become `~2E`: a
storage path segment must not end with a dot (`.` and `..` would even be resolved away).
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Sequence
from urllib.parse import unquote_to_bytes

MAX_KEY_LENGTH = 512
"""Table keys are at most 1 KiB of UTF-16, and encoded keys are ASCII."""

SEPARATOR = "!"
SHORTENED = "~~"
"""Marks a shortened key: what follows is the digest of the whole encoding."""

_DIGEST_LENGTH = 2 * hashlib.sha256().digest_size
_KEPT = frozenset((string.ascii_letters + string.digits + "._-").encode())
_BYTE_TEXT = tuple(chr(b) if b in _KEPT else f"~{b:02X}" for b in range(256))
_ENCODED = re.compile(r"(?:[A-Za-z0-9._-]|~[0-9A-F]{2})*")
_DOT = "~2E"


def encode_key(value: str) -> str:
    """`value` as a storage key of at most MAX_KEY_LENGTH characters."""
    return _fitting(_characters(value))


def decode_key(key: str) -> str:
    """The string that `encode_key` turned into `key`; ValueError if no string encodes to `key` unshortened."""
    if _ENCODED.fullmatch(key) is None:
        raise ValueError(f"{key!r} is not an encoded key, or a shortened one")
    value = unquote_to_bytes(key.replace("~", "%")).decode("utf-8", "surrogatepass")
    if _encode(value) != key:
        raise ValueError(f"{key!r} is not the canonical encoding of {value!r}")
    return value


def encode_composite(parts: Sequence[str]) -> str:
    """Several strings as one storage key of at most MAX_KEY_LENGTH characters, parts joined by SEPARATOR."""
    if not parts:
        raise ValueError("a composite key needs at least one part")
    return _fitting(_joined(parts))


def decode_composite(key: str) -> list[str]:
    """The parts that `encode_composite` joined into `key` (when it was not shortened)."""
    return [decode_key(part) for part in key.split(SEPARATOR)]


def encode_path_segment(value: str) -> str:
    """`value` as one segment of a blob name: no `/`, no trailing dot, at most MAX_KEY_LENGTH characters."""
    pieces = _characters(value)
    trailing = 0
    while trailing < len(pieces) and pieces[len(pieces) - 1 - trailing] == ".":
        trailing += 1
    # "." is never escaped in a plain encoding, so an escaped trailing dot cannot collide with another name
    return _fitting([*pieces[: len(pieces) - trailing], *[_DOT] * trailing])


def _encode(value: str) -> str:
    # surrogatepass: a lone surrogate (valid in JSON, so possible in a business key) round-trips too
    return "".join(_BYTE_TEXT[b] for b in value.encode("utf-8", "surrogatepass"))


def _characters(value: str) -> list[str]:
    """The encoding of `value`, one piece per character, so that a shortened key ends on a whole character."""
    return [_encode(character) for character in value]


def _joined(parts: Sequence[str]) -> list[str]:
    pieces = _characters(parts[0])
    for part in parts[1:]:
        pieces += [SEPARATOR, *_characters(part)]
    return pieces


def _fitting(pieces: list[str]) -> str:
    whole = "".join(pieces)
    if len(whole) <= MAX_KEY_LENGTH:
        return whole
    room = MAX_KEY_LENGTH - len(SHORTENED) - _DIGEST_LENGTH
    kept: list[str] = []
    for piece in pieces:
        room -= len(piece)
        if room < 0:
            break
        kept.append(piece)
    return "".join(kept) + SHORTENED + hashlib.sha256(whole.encode("ascii")).hexdigest()
