"""Regular expressions from project definitions, compiled for RE2, the linear-time engine.

A pattern is written by whoever may edit a project, and it runs on every value a source
system sends: both are outside the service's control. Python's `re` backtracks, so one
pattern such as `(\\s*)+$` and one crafted value hold a worker until `functionTimeout` ends
it and everything running beside it; `re` has no time limit to stop it earlier, and a
limit enforced from another thread cannot interrupt the C matching loop. RE2
(`google-re2`, Google's engine with its Python binding) matches in time linear in the
value, whatever the pattern, and so needs no time limit at all.

What that costs: RE2 has no backreferences (`\\1`) and no lookaround (`(?=`, `(?<!`);
such a pattern is refused when the project is saved, naming the field. RE2's `\\d`, `\\s`
and `\\w` are ASCII only; they are rewritten to the Unicode classes Python's `re` gives them
(`\\s` still matches U+3000, `\\d` Arabic-Indic digits), and so are `\\D`, `\\S`, `\\W`
outside brackets (inside brackets those three keep RE2's ASCII meaning, which has no
Unicode spelling there; `\\b` is ASCII-only too). A pattern is at most `MAX_PATTERN_CHARS`
long, and one whose compiled program outgrows RE2's memory budget (huge counted
repetitions) is refused the same way.
"""

from __future__ import annotations

import re2

from shared.errors import InvalidInput
from shared.limits import MAX_PATTERN_CHARS

_UNICODE_CLASSES = {
    "s": r"\s\p{Z}\x{85}\x{1c}-\x{1f}",
    "d": r"\p{Nd}",
    "w": r"\p{L}\p{N}_",
}
"""What Python's `re` means by `\\s`, `\\d` and `\\w` on text, as members of an RE2 class."""


class PatternError(InvalidInput, ValueError):
    """A pattern RE2 cannot run: its message says why, in RE2's words. A ValueError too, for pydantic validators."""


def compile_pattern(pattern: str) -> re2._Regexp:
    """`pattern` compiled for RE2; PatternError when it is too long or RE2 cannot compile it."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"a pattern is at most {MAX_PATTERN_CHARS} characters")
    options = re2.Options()
    # a refused pattern is the caller's mistake, reported to the caller: not for the worker's log
    options.log_errors = False
    try:
        return re2.compile(unicode_classes(pattern), options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise PatternError(f"not a regular expression RE2 can run ({text})") from None


def unicode_classes(pattern: str) -> str:
    """`pattern` with `\\s \\d \\w` (anywhere) and `\\S \\D \\W` (outside brackets) spelled as Unicode classes.

    Everything else is copied as written: other escapes, `\\Q...\\E` quotes and `[:alpha:]`
    names inside brackets, whose characters are not pattern syntax.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if escaped == "Q":
                end = pattern.find("\\E", i + 2)
                end = len(pattern) if end < 0 else end + 2
                out.append(pattern[i:end])
                i = end
                continue
            members = _UNICODE_CLASSES.get(escaped.lower())
            if members is None or (in_class and escaped.isupper()):
                out.append(pattern[i : i + 2])
            elif in_class:
                out.append(members)
            else:
                out.append(f"[{'^' if escaped.isupper() else ''}{members}]")
            i += 2
            continue
        if in_class and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            end = len(pattern) if end < 0 else end + 2
            out.append(pattern[i:end])
            i = end
            continue
        if not in_class and char == "[":
            start = i + 1 + (pattern.startswith("^", i + 1))
            # a `]` right after `[` or `[^` is a member, not the end of the class
            start += pattern.startswith("]", start)
            out.append(pattern[i:start])
            in_class = True
            i = start
            continue
        if in_class and char == "]":
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)
