"""Syntax errors name the expression and the 1-based column; nothing is evaluated."""
import pytest

from service.decisions.feel import FeelSyntaxError, compile_expression, compile_unary_tests


@pytest.mark.parametrize("text, column", [
    ("1 +", 4),
    ("(1 + 2", 7),
    ('"open', 1),
    ("[1, 2", 6),
    ("{a 1}", 5),
    ("if true then 1", 15),
    ("1 2", 3),
    ("", 1),
])
def test_syntax_error_columns(text, column):
    with pytest.raises(FeelSyntaxError) as caught:
        compile_expression(text, name="d1")
    error = caught.value
    assert error.column == column
    assert error.expression == text
    assert f"column {column}" in str(error)
    assert "'d1'" in str(error)


def test_unary_test_syntax_error():
    with pytest.raises(FeelSyntaxError):
        compile_unary_tests("< ")


def test_no_python_evaluation_is_reachable():
    for text in ('__import__("os")', "().__class__", "x.__class__"):
        try:
            result = compile_expression(text).evaluate({"x": 1})
        except FeelSyntaxError:
            continue
        assert result is None


def test_a_unary_test_range_needs_its_parentheses():
    """A range "(=10)" needs its parentheses: "== 10" (JUEL-style cells) stays an error."""
    with pytest.raises(FeelSyntaxError):
        compile_unary_tests('== "1"')
    with pytest.raises(FeelSyntaxError):
        compile_expression("= 10")
