"""Shared helpers for the FEEL tests: evaluate text and compare with FEEL values."""
from decimal import Decimal

import pytest

from service.decisions.feel import compile_expression


@pytest.fixture
def feel():
    """Evaluate FEEL text in an optional scope, returning (value, warnings)."""
    def evaluate(text, scope=None, **options):
        warnings: list = []
        value = compile_expression(text, **options).evaluate(scope or {}, warnings=warnings)
        return value, warnings
    return evaluate


@pytest.fixture
def value(feel):
    """Evaluate FEEL text and return only its value."""
    return lambda text, scope=None, **options: feel(text, scope, **options)[0]


D = Decimal
