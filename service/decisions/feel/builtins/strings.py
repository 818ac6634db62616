"""FEEL string built-ins, with XPath regular expressions mapped onto Python's syntax.

Patterns are analysts' input: they are compiled with a cache and a length cap, the XPath flags
(``s m i x q``) are translated, and unsupported XPath features give null, not a crash. Matching
goes through ``service.sandbox.regex``, whose matches time out within the evaluation's budget
(``^(a+)+$`` backtracks exponentially in ``re``) and whose replacements cannot outgrow it.
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from service.sandbox import check_size, regex

from .arguments import list_of, number, string
from .registry import FeelError, builtin

_MAX_PATTERN = 1000


@lru_cache(maxsize=512)
def xpath_regex(pattern: str, flags: str = ""):
    """Compile an XPath 2.0 regular expression with its flag letters."""
    if len(pattern) > _MAX_PATTERN:
        raise FeelError("regular expression too long")
    options = 0
    for flag in flags:
        if flag == "s":
            options |= regex.DOTALL
        elif flag == "m":
            options |= regex.MULTILINE
        elif flag == "i":
            options |= regex.IGNORECASE
        elif flag == "x":
            pattern = _strip_whitespace(pattern)
        elif flag == "q":
            pattern = regex.escape(pattern)
        else:
            raise FeelError(f"unknown regular expression flag {flag!r}")
    if "q" not in flags:
        pattern = _translate(pattern, "s" in flags)
    try:
        return regex.compile(pattern, options)
    except regex.PatternError as exc:
        raise FeelError(f"bad regular expression: {exc}") from exc


_BLOCKS = {"IsBasicLatin": "\\x00-\\x7f", "IsLatin-1Supplement": "\\x80-\\xff",
           "IsGreek": "\\u0370-\\u03ff", "IsCyrillic": "\\u0400-\\u04ff"}


def _strip_whitespace(pattern: str) -> str:
    """Apply the XPath ``x`` flag: drop whitespace outside character classes."""
    out, depth = [], 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        if ch in " \t\n\r" and not depth:
            continue
        out.append(ch)
    return "".join(out)


def _translate(pattern: str, dotall: bool = False) -> str:
    """Rewrite XPath regex syntax Python reads differently (``.``, blocks, subtraction)."""
    if "(?" in pattern.replace("(?:", ""):
        raise FeelError("unsupported regular expression group")
    out, i, depth = [], 0, 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt in "pP":
                end = pattern.find("}", i)
                name = pattern[i + 3:end] if pattern.startswith("{", i + 2) and end > 0 else ""
                if name not in _BLOCKS:
                    raise FeelError(f"unsupported character property {name!r}")
                body = _BLOCKS[name]
                negate = nxt == "P"
                out.append(body if depth else f"[{'^' if negate else ''}{body}]")
                i = end + 1
                continue
            if nxt.isdigit() and (depth or nxt == "0"):
                raise FeelError("back-reference inside a character class")
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[":
            subtraction = _class_subtraction(pattern, i)
            if subtraction:
                out.append(subtraction[0])
                i = subtraction[1]
                continue
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        elif ch == "." and not depth and not dotall:
            out.append("[^\\n\\r]")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _class_subtraction(pattern: str, i: int):
    """Rewrite ``[A-Z-[OI]]`` as a lookahead; return (text, next index) or None."""
    j = pattern.find("-[", i + 1)
    close = pattern.find("]", i + 1)
    if j < 0 or close < j:
        return None
    inner_close = pattern.find("]", j + 2)
    if inner_close < 0 or not pattern.startswith("]", inner_close + 1):
        return None
    base = pattern[i + 1:j]
    minus = pattern[j + 2:inner_close]
    return f"(?:(?![{minus}])[{base}])", inner_close + 2


def _replacement(text: str):
    parts, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 < len(text) and text[i + 1] in "\\$":
                parts.append(text[i + 1])
                i += 2
                continue
            raise FeelError("bad backslash in replacement")
        if ch == "$":
            j = i + 1
            while j < len(text) and text[j].isdigit():
                j += 1
            if j == i + 1:
                raise FeelError("bad $ in replacement")
            parts.append(int(text[i + 1:j]))
            i = j
            continue
        parts.append(ch)
        i += 1

    def expand(match) -> str:
        out = []
        for part in parts:
            if isinstance(part, int):
                if part <= (match.re.groups or 0):
                    out.append(match.group(part) or "")
            else:
                out.append(part)
        return "".join(out)
    return expand


@builtin("substring", "string, start position, length?")
def substring(text, start, length=None):
    text = string(text, "string")
    start = int(number(start, "start position"))
    size = len(text)
    if start == 0 or abs(start) > size and start < 0:
        raise FeelError("start position out of range")
    begin = start - 1 if start > 0 else size + start
    if length is None:
        return text[begin:]
    count = int(number(length, "length"))
    if count < 0:
        raise FeelError("negative length")
    return text[begin:begin + count]


@builtin("string length", "string")
def string_length(text):
    return Decimal(len(string(text, "string")))


@builtin("upper case", "string")
def upper_case(text):
    return string(text, "string").upper()


@builtin("lower case", "string")
def lower_case(text):
    return string(text, "string").lower()


@builtin("substring before", "string, match")
def substring_before(text, match):
    text, match = string(text, "string"), string(match, "match")
    index = text.find(match)
    return "" if index < 0 else text[:index]


@builtin("substring after", "string, match")
def substring_after(text, match):
    text, match = string(text, "string"), string(match, "match")
    index = text.find(match)
    return "" if index < 0 else text[index + len(match):]


@builtin("replace", "input, pattern, replacement, flags?")
def replace(text, pattern, replacement, flags=None):
    compiled = xpath_regex(string(pattern, "pattern"), "" if flags is None else string(flags))
    if regex.match(compiled, ""):
        raise FeelError("pattern matches the empty string")
    expand = _replacement(string(replacement, "replacement")) if (
        flags is None or "q" not in flags) else (lambda m, r=replacement: r)
    return regex.sub(compiled, expand, string(text, "input"))


@builtin("contains", "string, match")
def contains(text, match):
    return string(match, "match") in string(text, "string")


@builtin("starts with", "string, match")
def starts_with(text, match):
    return string(text, "string").startswith(string(match, "match"))


@builtin("ends with", "string, match")
def ends_with(text, match):
    return string(text, "string").endswith(string(match, "match"))


@builtin("matches", "input, pattern, flags?")
def matches(text, pattern, flags=None):
    compiled = xpath_regex(string(pattern, "pattern"), "" if flags is None else string(flags))
    return regex.search(compiled, string(text, "input")) is not None


@builtin("split", "string, delimiter")
def split(text, delimiter):
    compiled = xpath_regex(string(delimiter, "delimiter"))
    if regex.match(compiled, ""):
        raise FeelError("delimiter matches the empty string")
    return regex.split(compiled, string(text, "string"))


@builtin("string join", "list, delimiter?")
def string_join(values, delimiter=None):
    values = list_of(values, "list")
    if delimiter is not None:
        delimiter = string(delimiter, "delimiter")
    if any(v is not None and not isinstance(v, str) for v in values):
        raise FeelError("string join needs a list of strings")
    parts = [v for v in values if v is not None]
    check_size(sum(map(len, parts)) + len(delimiter or "") * max(0, len(parts) - 1), "string")
    return (delimiter or "").join(parts)

