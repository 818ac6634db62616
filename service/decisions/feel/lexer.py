"""Split FEEL text into tokens, keeping each token's position for error columns.

Names are kept word by word: FEEL names may contain spaces, keywords and operator characters
(``date and time``, ``Date-Time``), which only the parser can resolve, using the names it knows.
Unknown characters become single-character operator tokens instead of errors so that such names
(``Applicant's age``) can still be matched; the parser rejects them where a name cannot stand.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import FeelSyntaxError

NUMBER, STRING, NAME, OP, TEMPORAL, EOF = "number", "string", "name", "op", "temporal", "eof"

KEYWORDS = frozenset({
    "and", "or", "in", "for", "return", "if", "then", "else", "some", "every", "satisfies",
    "instance", "of", "between", "function", "external", "null", "true", "false",
})

_TWO_CHAR = frozenset({"..", "**", "<=", ">=", "!=", "->"})
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "'": "'", "b": "\b",
            "f": "\f", "/": "/"}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``value`` is the decoded literal or the text; ``start``/``end`` are offsets."""

    kind: str
    value: object
    start: int
    end: int

    def is_op(self, text: str) -> bool:
        return self.kind == OP and self.value == text

    def is_word(self, text: str) -> bool:
        return self.kind == NAME and self.value == text


def _digit(ch: str) -> bool:
    return "0" <= ch <= "9"  # not str.isdigit: "²" and "١" are digits to Python, not to FEEL


def _name_start(ch: str) -> bool:
    return ch.isalpha() or ch in "_?" or ord(ch) > 0x7F and not ch.isspace() and ch not in "’"


def _name_part(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or ord(ch) > 0x7F and not ch.isspace() and ch not in "’"


def tokenize(text: str, name: str | None = None) -> list[Token]:
    """Return the tokens of ``text`` ending with an EOF token; raise on bad literals."""
    tokens: list[Token] = []
    i, n = 0, len(text)

    def fail(message: str, at: int):
        raise FeelSyntaxError(message, expression=text, column=at + 1, name=name)

    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                fail("unterminated comment", i)
            i = end + 2
            continue
        if _digit(ch) or (ch == "." and i + 1 < n and _digit(text[i + 1])):
            start = i
            while i < n and _digit(text[i]):
                i += 1
            if i + 1 < n and text[i] == "." and _digit(text[i + 1]):
                i += 1
                while i < n and _digit(text[i]):
                    i += 1
            elif i < n and text[i] == "." and not text.startswith("..", i) and start != i:
                i += 1  # "1." is a number in FEEL
            if i < n and text[i] in "eE":
                j = i + 1
                if j < n and text[j] in "+-":
                    j += 1
                if j < n and _digit(text[j]):
                    while j < n and _digit(text[j]):
                        j += 1
                    i = j
            tokens.append(Token(NUMBER, Decimal(text[start:i]), start, i))
            continue
        if ch == '"' or (ch == "@" and text.startswith('@"', i)):
            start = i
            i += 2 if ch == "@" else 1
            value, i = _read_string(text, i, fail)
            tokens.append(Token(TEMPORAL if ch == "@" else STRING, value, start, i))
            continue
        if _name_start(ch):
            start = i
            i += 1
            while i < n and _name_part(text[i]):
                i += 1
            tokens.append(Token(NAME, text[start:i], start, i))
            continue
        if text[i:i + 2] in _TWO_CHAR:
            tokens.append(Token(OP, text[i:i + 2], i, i + 2))
            i += 2
            continue
        tokens.append(Token(OP, ch, i, i + 1))
        i += 1
    tokens.append(Token(EOF, None, n, n))
    return tokens


def _read_string(text: str, i: int, fail) -> tuple[str, int]:
    start = i - 1
    parts: list[str] = []
    n = len(text)
    while True:
        if i >= n:
            fail("unterminated string", start)
        ch = text[i]
        if ch == '"':
            return _join_surrogates("".join(parts)), i + 1
        if ch == "\\":
            if i + 1 >= n:
                fail("unterminated string", start)
            esc = text[i + 1]
            if esc in _ESCAPES:
                parts.append(_ESCAPES[esc])
                i += 2
            elif esc in "uU":
                width = 4 if esc == "u" else 6
                digits = text[i + 2:i + 2 + width]
                if len(digits) != width or any(c not in "0123456789abcdefABCDEF" for c in digits):
                    if esc == "U":  # \U with 8 digits is also seen in the wild
                        digits = text[i + 2:i + 10]
                    if len(digits) not in (6, 8) or any(
                            c not in "0123456789abcdefABCDEF" for c in digits):
                        fail("bad unicode escape", i)
                    width = len(digits)
                parts.append(chr(int(digits, 16)))
                i += 2 + width
            else:  # FEEL keeps unknown escapes, so regex text like "\\d" survives
                parts.append("\\" + esc)
                i += 2
        else:
            parts.append(ch)
            i += 1


def _join_surrogates(value: str) -> str:
    """Combine UTF-16 surrogate pairs written as two ``\\u`` escapes into one character."""
    if not any("\ud800" <= c <= "\udfff" for c in value):
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
