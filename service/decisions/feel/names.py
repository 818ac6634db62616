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
    """Index known names by their first token so the parser can match them greedily.

    An index may sit on a ``parent`` that it reads but never changes: :meth:`overlay` makes
    one in O(1), so the built-in names and a model's names are indexed once and every compile
    adds the names its expression introduces to its own overlay only.
    """

    __slots__ = ("_by_first", "_parent")

    def __init__(self, names: Iterable[str] = (), parent: NameIndex | None = None):
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        self._parent = parent
        for name in names:
            self.add(name)

    def overlay(self) -> NameIndex:
        """Return an empty index on top of this one: additions stay in the overlay."""
        return NameIndex((), self)

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
        key = text[first.start:first.end]
        best = 0
        index: NameIndex | None = self
        while index is not None:
            for words in index._by_first.get(key, ()):
                k = len(words)
                if k <= best:
                    break  # entries are longest first
                if i + k < len(tokens) and all(
                        tokens[i + j].kind in (NAME, OP, NUMBER)
                        and text[tokens[i + j].start:tokens[i + j].end] == words[j]
                        for j in range(k)):
                    best = k
                    break
            index = index._parent
        return best
