"""Bounds for evaluating analysts' code: one budget (CPU, steps, size) and bounded regexes.

The restricted Python of script tasks and expressions is ``service.sandbox.python`` (imported
by whoever runs scripts: it brings RestrictedPython and an isolated process pool). Imports
nothing of ours, so both the engine and the decisions package can use it.
"""
from . import regex
from .budget import (DEFAULT_LIMITS, Budget, BudgetExceeded, Limits, bounded, check_size,
                     current, ensure, tick)

__all__ = ["DEFAULT_LIMITS", "Budget", "BudgetExceeded", "Limits", "bounded", "check_size",
           "current", "ensure", "regex", "tick"]
