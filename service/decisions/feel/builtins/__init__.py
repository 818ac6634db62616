"""Hold FEEL's built-in function library, one module per area, in one registry.

``registry`` defines ``BUILTINS`` and the ``builtin`` decorator; importing the area modules
below registers their functions into it, so ``BUILTINS`` is complete once this package is
imported. See ``registry`` for how signatures, overloads and argument faults work.
"""
from __future__ import annotations

from . import contexts, conversions, lists, numbers, ranges, strings, temporal  # noqa: F401
from .registry import BUILTINS, Builtin, FeelError, Mismatch, builtin

__all__ = ["BUILTINS", "Builtin", "FeelError", "Mismatch", "builtin"]
