"""Index the names an expression may use, so the parser can read names with spaces.

FEEL names may contain spaces, keywords, digits and operator characters (``date and time``,
``Date-Time``, ``decision A 1``); the lexer cannot know where such a name ends. The parser asks
this index for the longest known name that starts at a token, comparing token texts, so the
spacing inside the name does not matter.
"""
from __future__ import annotations

from typing import Iterable

from .errors import FeelSyntaxError
from .lexer import NAME, NUMBER, OP, Token, tokenize


class NameIndex:
    """Index known names by their first token so the parser can match them greedily."""

    def __init__(self, names: Iterable[str]):
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for name in names:
            self.add(name)

    def copy(self) -> NameIndex:
        clone = NameIndex(())
        clone._by_first = {k: list(v) for k, v in self._by_first.items()}
        return clone

    def add(self, name: str) -> None:
        try:
            words = tuple(name[t.start:t.end] if t.kind in (NAME, OP, NUMBER) else None
                          for t in tokenize(name)[:-1])
        except FeelSyntaxError:
            return
        if not words or None in words:
            return
        entries = self._by_first.setdefault(words[0], [])
        if words not in entries:
            entries.append(words)
            entries.sort(key=len, reverse=True)

    def longest(self, tokens: list[Token], i: int, text: str) -> int:
        """Return how many tokens from ``i`` spell the longest known name (0 if none)."""
        first = tokens[i]
        for words in self._by_first.get(text[first.start:first.end], ()):
            k = len(words)
            if i + k < len(tokens) and all(
                    tokens[i + j].kind in (NAME, OP, NUMBER)
                    and text[tokens[i + j].start:tokens[i + j].end] == words[j]
                    for j in range(k)):
                return k
        return 0
