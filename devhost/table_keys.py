"""Reversible encoding of ids into Table Storage keys.

Keys may not hold `/ \\ # ?` or control characters, and two ids must never meet in one key.
So `[A-Za-z0-9-_.:@]` stay as they are, and every other UTF-8 byte, `~` included, becomes
`~XX`: `"order 7"` -> `"order~207"`. Encoded keys are ASCII.
"""

from __future__ import annotations

MAX_KEY_CHARS = 512
"""A key is at most 1 KiB of UTF-16."""

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:@")


def encode_key(text: str) -> str:
    """The Table Storage key of `text`; decode_key reverses it."""
    return "".join(c if c in _SAFE else "".join(f"~{b:02X}" for b in c.encode()) for c in text)


def decode_key(key: str) -> str:
    """The text encode_key encoded."""
    out, index = bytearray(), 0
    while index < len(key):
        if key[index] == "~":
            out.append(int(key[index + 1:index + 3], 16))
            index += 3
        else:
            out.extend(key[index].encode())
            index += 1
    return out.decode()
