"""Patterns from definitions run in RE2: linear time whatever the pattern, Python's Unicode classes kept."""

from __future__ import annotations

import pytest

from shared.limits import MAX_PATTERN_CHARS
from shared.patterns import PatternError, compile_pattern, unicode_classes


def replace(pattern: str, value: str, replacement: str = "") -> str:
    return compile_pattern(pattern).sub(lambda _match: replacement, value)


def test_a_catastrophic_backtracking_pattern_completes_on_a_crafted_value() -> None:
    crafted = " " * 50_000 + "x"
    assert replace(r"(\s*)+$", crafted) == crafted
    assert replace(r"^(a+)+$", "a" * 50_000 + "!") == "a" * 50_000 + "!"


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"(a)\1", "invalid escape sequence"),
        (r"(?P<x>a)(?P=x)", "RE2"),
        (r"a(?=b)", "invalid perl operator"),
        (r"(?<!a)b", "invalid perl operator"),
        ("[", "missing ]"),
        ("a" * (MAX_PATTERN_CHARS + 1), f"at most {MAX_PATTERN_CHARS}"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_saying_why(pattern: str, words: str) -> None:
    with pytest.raises(PatternError) as raised:
        compile_pattern(pattern)
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        (r"\s+", "ä\u3000ö\u00a0ü\u2028x", "ä_ö_ü_x"),
        (r"\d", "a\u0663b٤7", "a_b__"),
        (r"\w+", "héllo wörld 日本", "_ _ _"),
        (r"\W+", "héllo, wörld!", "héllo_wörld_"),
        (r"[\s,]+", "a, b\u3000c", "a_b_c"),
        (r"\D", "\u06631x", "\u06631_"),
        (r"\\s", "a\\sb", "a_b"),
        (r"\Q\s\E", "a\\sb c", "a_b c"),
        (r"[]\s]", "a]b c", "a_b_c"),
        (r"[[:alpha:]\d]+", "ab12 ;", "_ ;"),
    ],
)
def test_classes_keep_the_unicode_meaning_of_python_re(pattern: str, value: str, expected: str) -> None:
    assert replace(pattern, value, "_") == expected


def test_rewriting_leaves_other_syntax_alone() -> None:
    assert unicode_classes(r"^a{2,3}(?i:b)|\x{41}\p{Greek}[^a-z]$") == r"^a{2,3}(?i:b)|\x{41}\p{Greek}[^a-z]$"
