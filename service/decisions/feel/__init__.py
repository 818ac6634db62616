"""Compile and evaluate FEEL, the expression language of DMN (1.3 to 1.5).

FEEL text is untrusted analysts' input: it is parsed by our own lexer and parser, never given to
Python ``eval``/``exec``, and compiled once into a tree of Python closures so that evaluating it
does not re-walk an AST. Runtime faults (a type mismatch, a bad argument, an unknown name) give
FEEL ``null`` (``None``) and a warning string, never an exception; only syntax errors raise, and
``service.sandbox.BudgetExceeded`` when an evaluation goes beyond the shared budget: every
evaluation runs in the caller's ``bounded`` block or opens one (``ensure``); loops, built
lists and strings, list built-ins and function calls take steps from it; regular expressions
run through ``service.sandbox.regex``. Text nested more than ``parser.MAX_NESTING`` levels (or
whose tree is deeper than ``parser.MAX_DEPTH``) is a syntax error, so neither compiling nor
evaluating can hit Python's recursion limit.

Public API
----------
``compile_expression(text, *, name=None, known_names=None) -> Expression``
    Parse and compile a FEEL expression. ``known_names`` (any iterable of str) lists names the
    scope will hold, so that names with spaces or operator characters (``Monthly Salary``,
    ``Date-Time``, ``Is in range``) are recognised. Without it, adjacent plain words are joined
    into one name (``Monthly Salary * 12`` works), and built-in function names are always known.
    Raises ``FeelSyntaxError`` (``.expression``, ``.column`` 1-based, ``.message``).
    ``known_names`` may also be a ``NameIndex`` from ``name_index(names)``: a caller that
    compiles many expressions over the same names (a DMN model) indexes them once.

``Expression.evaluate(scope, *, warnings=None, type_resolver=None) -> Any``
    ``scope`` is a ``Mapping[str, Any]`` or a ``Scope``. Warnings are appended to ``warnings``.

``compile_unary_tests(text, *, name=None, known_names=None) -> UnaryTests``
    Compile a decision-table input entry. ``UnaryTests.matches(value, scope=None, *,
    warnings=None, type_resolver=None) -> bool``; a null or error result is "no match". ``-``
    matches anything; ``not(...)`` negates; ``?`` names the input value.

``Scope(vars=None, parent=None, *, type_resolver=None, warnings=None)``
    A chained mapping; ``scope.child(dict)`` adds a frame. ``type_resolver(name)`` returns a
    predicate ``value -> bool`` for a custom (item definition) type name, or ``None`` when the
    name is unknown; ``instance of`` and typed function parameters use it.

``FeelFunction(params, body, *, name=None, param_types=None, result_type=None)``
    Wrap a Python callable so FEEL can invoke it with positional or named arguments (business
    knowledge models, decision services, ``invoke``). Put it in the scope under its name.
    Calling a ``FeelFunction`` from Python (``fn(1, 2)``, ``fn(a=1)``) works for any FEEL
    function, including ones defined in FEEL and the built-ins. Subclasses override
    ``invoke(args, named, env)``; ``env`` is the caller's ``Scope``, whose ``warnings`` list is
    shared by the whole evaluation (the DMN layer hangs the matched rules on it).

``MISSING``
    What ``Scope.lookup(name)`` returns for an unbound name (``None`` is FEEL null, a value).

Contracts the DMN layer relies on: a unary test ``true`` is satisfied by ``true`` and by any
non-boolean input (the test expression is then simply true), never by ``false``; the decision
table's literal index asks FEEL for such inputs, and ``tests/decisions/test_table_cells.py``
checks that the two agree. ``Expression.text`` and ``UnaryTests.text`` keep the source text.

Values
------
number ``decimal.Decimal`` (computed in ``NUMBER_CONTEXT``: 34 digits, ROUND_HALF_EVEN),
string ``str``, boolean ``bool``, null ``None``, date ``datetime.date``, time ``datetime.time``
and date and time ``datetime.datetime`` (``tzinfo`` is a fixed ``datetime.timezone`` for an
offset, a ``zoneinfo.ZoneInfo`` for a zone id such as ``@Europe/Paris``, absent for local),
``DaysTimeDuration(total_seconds)``, ``YearsMonthsDuration(total_months)``,
``Range(start, end, start_included, end_included, null_endpoint=False, operator=None)`` (a
``None`` endpoint is unbounded, as in ``> 5``; ``null_endpoint`` marks a literal such as
``[null..10]``, whose membership tests are null; ``operator`` is ``"="``/``"!="`` for the
unary-test ranges ``(=10)``/``(!=10)``), list
``list``, context ``dict`` (insertion ordered), function ``FeelFunction``.

Helpers: ``to_feel(value)`` converts Python ints/floats (recursively in lists/dicts) to FEEL
values; ``format_value(value)`` is FEEL ``string()``; ``equals(a, b)`` is FEEL ``=`` (``True``,
``False`` or ``None`` when not comparable); ``is_instance(value, type_text, type_resolver=None)``
is FEEL ``instance of`` with a type given as text (``"list<number>"``, ``"tns:Person"``);
``BUILTINS`` maps built-in function names to ``FeelFunction`` objects.

Layout
------
``lexer`` → ``parser`` (with ``names`` for multi-word names) → ``compiler`` (plus ``matching``
for unary tests and ``functions`` for definitions and calls) → closures over ``scope``.
``semantics`` holds equality, ordering and arithmetic; ``temporal`` the ISO forms and calendar
arithmetic; ``properties`` the ``.year``-style properties; ``conformance`` ``instance of``;
``formatting`` ``string()``; ``builtins/`` the function library, one module per area.

Dates run from year -999,999,999 to 999,999,999 and times to the nanosecond: values Python's
types cannot hold are the subclasses of :mod:`.datetimes` (still ``date``/``datetime``/``time``
instances). ``external`` functions are refused on purpose: a syntax error in FEEL text, and a
``kind="Java"`` DMN function definition is refused at parse.
"""
from __future__ import annotations

from .builtins import BUILTINS
from .conversion import to_feel
from .errors import FeelSyntaxError, UnknownName
from .expression import Expression, compile_expression, name_index
from .formatting import format_value
from .names import NameIndex
from .scope import MISSING, ItemScope, Scope, TypeResolver
from .semantics import equals
from .conformance import is_instance
from .unary import UnaryTests, compile_unary_tests
from .values import NUMBER_CONTEXT, DaysTimeDuration, FeelFunction, Range, YearsMonthsDuration

__all__ = [
    "BUILTINS",
    "DaysTimeDuration",
    "Expression",
    "FeelFunction",
    "FeelSyntaxError",
    "ItemScope",
    "MISSING",
    "NameIndex",
    "NUMBER_CONTEXT",
    "Range",
    "Scope",
    "TypeResolver",
    "UnknownName",
    "UnaryTests",
    "YearsMonthsDuration",
    "compile_expression",
    "compile_unary_tests",
    "equals",
    "format_value",
    "is_instance",
    "name_index",
    "to_feel",
]
