"""Compile a DMN decision table once and evaluate it quickly.

Evaluation is column-wise over bitmasks rather than rule by rule: each input expression is
evaluated once, each distinct cell text of a column is compiled once and tested at most once
per evaluation (and only while a rule carrying it is still alive), and columns whose cells are
plain literals (``"gold"``, ``42``, ``true`` and lists of them) are answered by one dictionary
lookup. The surviving bitmask gives the matched rules in rule order; only their output entries
are evaluated. This is what keeps a 20-rule table well above 50,000 evaluations per second.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

from .document import child, children, text_of
from .errors import DmnError
from .feel import Scope
from .hit_policy import HitPolicy
from .item_definition import DmnType
from .table_cells import (IntervalIndex, NameRef, NumericTest, free_names, index_key,
                          literal_values, split_top_level)


@dataclass(frozen=True)
class RuleRef:
    """A matched rule as recorded for audit: its id and 1-based row number."""

    rule_id: str
    row: int

    def as_dict(self) -> dict:
        return {"rule_id": self.rule_id, "row": self.row}


class _Column:
    __slots__ = ("expr", "source", "type", "check", "allowed", "index", "literal_tests",
                 "true_tests", "tests", "intervals", "dash", "label")

    def __init__(self, expr, source: str, dmn_type: DmnType, allowed, label: str):
        self.expr = expr
        self.source = source
        self.type = dmn_type
        self.check = getattr(dmn_type, "_test", None)  # fast built-in type predicate
        self.allowed = allowed
        self.label = label
        self.index: dict[tuple, int] = {}
        self.literal_tests: list[tuple[Any, int]] = []  # fallback when the value has no key
        # FEEL satisfies a `true` cell whenever the expression is true, whatever a non-boolean
        # input is, so literal cells holding `true` are also asked of FEEL for such inputs.
        self.true_tests: list[tuple[Any, int]] = []
        self.tests: list[tuple[Any, int]] = []
        self.intervals: IntervalIndex | None = None  # when every test is a NumericTest
        self.dash = 0


class _Output:
    __slots__ = ("name", "type", "allowed", "priority_tests", "default", "named")

    def __init__(self, name, dmn_type, allowed, priority_tests, default, named=True):
        self.name = name
        self.named = named            # the column has a name of its own (not the table's)
        self.type = dmn_type
        self.allowed = allowed
        self.priority_tests = priority_tests
        self.default = default


class DecisionTable:
    """A compiled decision table: ``evaluate(scope)`` returns its value (FEEL semantics)."""

    def __init__(self, table_id: str, policy: HitPolicy, columns: list[_Column],
                 outputs: list[_Output], rules: list[RuleRef], entries: list[list[Any]]):
        self.table_id = table_id
        self.policy = policy
        self.columns = columns
        self.outputs = outputs
        self.rules = rules
        self.entries = entries          # per rule, per output: a constant or a compiled Expression
        self.all_rules = (1 << len(rules)) - 1
        self.single = len(outputs) == 1
        self.has_default = any(o.default is not None for o in outputs)
        # Rules whose outputs are all literals that pass their checks have a constant result.
        self.constant: list[Any] = []
        self.constant = [self._constant(i) for i in range(len(rules))]

    def _constant(self, index: int) -> Any:
        if not all(e is None or isinstance(e, _Const) for e in self.entries[index]):
            return _NOT_CONSTANT
        probe = Scope({})
        result = self._rule_result(index, probe)
        return _NOT_CONSTANT if probe.warnings else result

    # -- parsing -----------------------------------------------------------------------------
    @classmethod
    def compile(cls, el: etree._Element, compiler, output_name: str | None) -> DecisionTable:
        """Compile a ``<decisionTable>`` element; ``compiler`` compiles FEEL with locations."""
        table_id = el.get("id") or output_name or "decisionTable"
        try:
            policy = HitPolicy.parse(el.get("hitPolicy"), el.get("aggregation"))
        except ValueError as exc:
            raise DmnError(str(exc), element_id=table_id, line=el.sourceline) from None
        columns = []
        for n, inp in enumerate(children(el, "input"), 1):
            ie = child(inp, "inputExpression")
            label = inp.get("label") or (text_of(ie) or "").strip() or f"input {n}"
            if ie is None or not (text_of(ie) or "").strip():
                raise DmnError(f"decision table input column {n} ({label}) has no input "
                               "expression", element_id=inp.get("id") or table_id,
                               line=inp.sourceline)
            expr = compiler.expression(text_of(ie), ie, f"input expression of column {n}")
            expr = NameRef.parse(text_of(ie), expr) or expr
            allowed_text = text_of(child(inp, "inputValues"))
            allowed = compiler.unary(allowed_text, inp, f"input values of column {n}") \
                if allowed_text and allowed_text.strip() not in ("", "-") else None
            columns.append(_Column(expr, text_of(ie), compiler.types.resolve(ie.get("typeRef")),
                                   allowed, label))
        outputs = []
        out_elements = children(el, "output")
        if not out_elements:
            raise DmnError("decision table has no output column", element_id=table_id,
                           line=el.sourceline)
        for n, out in enumerate(out_elements, 1):
            # a single output's value is the table's value: its name is only a label
            name = out.get("name") or (output_name or table_id if len(out_elements) == 1
                                        else None)
            if name is None:
                raise DmnError(f"output column {n} of a multi-output table needs a name",
                               element_id=out.get("id") or table_id, line=out.sourceline)
            values_text = text_of(child(out, "outputValues"))
            allowed, priority = None, []
            if values_text and values_text.strip() not in ("", "-"):
                allowed = compiler.unary(values_text, out, f"output values of column {n}")
                priority = [compiler.unary(p, out, f"output value {p!r}")
                            for p in split_top_level(values_text)]
            default_el = child(out, "defaultOutputEntry")
            default = None
            if default_el is not None and (text_of(default_el) or "").strip():
                default = compiler.expression(text_of(default_el), default_el,
                                              f"default output of column {n}")
            outputs.append(_Output(name, compiler.types.resolve(out.get("typeRef")), allowed,
                                   priority, default, named=bool(out.get("name"))))
        if policy.needs_priorities and not any(o.priority_tests for o in outputs):
            raise DmnError(f"hit policy {policy.name} needs output values on an output",
                           element_id=table_id, line=el.sourceline)
        rules, entries = [], []
        cells: list[dict] = [{} for _ in columns]
        for row, rule in enumerate(children(el, "rule"), 1):
            rule_id = rule.get("id") or f"row {row}"
            rules.append(RuleRef(rule_id, row))
            ins = children(rule, "inputEntry")
            outs = children(rule, "outputEntry")
            if len(ins) != len(columns) or len(outs) != len(outputs):
                raise DmnError(
                    f"rule {rule_id} (row {row}) has {len(ins)} input and {len(outs)} output "
                    f"entries; the table has {len(columns)} inputs and {len(outputs)} outputs",
                    element_id=rule_id, line=rule.sourceline)
            bit = 1 << (row - 1)
            for n, (cell, column) in enumerate(zip(ins, columns), 1):
                where = f"rule {rule_id} (row {row}), input column {n} ({column.label})"
                text = (text_of(cell, where=where, element_id=rule_id) or "").strip()
                cls._add_cell(column, cells[n - 1], text, bit, compiler, cell, where, rule_id)
            row_entries = []
            for n, (cell, output) in enumerate(zip(outs, outputs), 1):
                where = f"rule {rule_id} (row {row}), output column {n} ({output.name})"
                text = (text_of(cell, where=where, element_id=rule_id) or "").strip()
                literals = literal_values(text) if text else None
                if not text:
                    row_entries.append(None)
                elif literals is not None and len(literals) == 1:
                    row_entries.append(_Const(literals[0]))
                else:
                    row_entries.append(compiler.expression(text, cell, where, rule_id))
            entries.append(row_entries)
        for column, column_cells in zip(columns, cells):
            cls._finish_column(column, column_cells)
        return cls(table_id, policy, columns, outputs, rules, entries)

    @staticmethod
    def _add_cell(column: _Column, cells: dict, text: str, bit: int, compiler, cell,
                  where: str, rule_id: str) -> None:
        """Add one input entry to its column: a dash, indexed literals and/or a compiled test."""
        if text in ("", "-"):
            column.dash |= bit
            return
        literals = literal_values(text)
        if literals is not None:
            for value in literals:
                key = index_key(value)
                column.index[key] = column.index.get(key, 0) | bit
        if text in cells:
            cells[text][1] |= bit
        else:
            test = compiler.unary(text, cell, where, rule_id)  # FEEL checks the syntax
            kind = "test" if literals is None else \
                "true" if any(v is True for v in literals) else "literal"
            cells[text] = [NumericTest.parse(text) or test, bit, kind]

    @staticmethod
    def _finish_column(column: _Column, cells: dict) -> None:
        column.literal_tests = [(t, m) for t, m, kind in cells.values() if kind != "test"]
        column.true_tests = [(t, m) for t, m, kind in cells.values() if kind == "true"]
        column.tests = [(t, m) for t, m, kind in cells.values() if kind == "test"]
        if column.tests and all(isinstance(t, NumericTest) for t, _ in column.tests):
            column.intervals = IntervalIndex.build(column.tests)

    def input_names(self) -> list[str]:
        """Return the variables the input expressions read (for forms and audit records)."""
        names: list[str] = []
        for column in self.columns:
            for name in free_names(column.source):
                if name not in names:
                    names.append(name)
        return names

    # -- evaluation --------------------------------------------------------------------------
    def evaluate(self, scope) -> Any:
        """Return the table's value in ``scope`` and record the matched rules in its trace."""
        alive = self.all_rules
        warn = scope.warn
        for column in self.columns:
            value = column.expr.evaluate(scope)
            if value is not None and not column.type.is_any and not (
                    column.check is not None and column.check(value)):
                value = column.type.coerce(value, warn, f"decision table {self.table_id} "
                                                        f"input {column.label}")
            if column.allowed is not None and value is not None \
                    and not column.allowed.matches(value, scope):
                warn(f"decision table {self.table_id}: input {column.label} value {value!r} "
                     "is not among its input values; null used")
                return None
            matched = column.dash
            key = index_key(value)
            if key is not None:
                matched |= column.index.get(key, 0)
                if column.true_tests and type(value) is not bool:
                    for test, mask in column.true_tests:
                        if mask & alive & ~matched and test.matches(value, scope):
                            matched |= mask
            else:
                for test, mask in column.literal_tests:
                    if mask & alive & ~matched and test.matches(value, scope):
                        matched |= mask
            if column.intervals is not None:
                # numeric cells match nothing but numbers (NaN included, see NumericTest)
                if type(value) is Decimal and not value.is_nan():
                    matched |= column.intervals.lookup(value)
            else:
                for test, mask in column.tests:
                    if mask & alive & ~matched and test.matches(value, scope):
                        matched |= mask
            alive &= matched
            if not alive:
                break
        trace = getattr(scope.warnings, "matched", None)
        if not alive:
            if trace is not None:
                trace[self.table_id] = []
            if self.has_default:
                return self._defaults(scope)
            return self.policy.empty()
        if self.policy.stops_at_first:
            index = (alive & -alive).bit_length() - 1
            if trace is not None:
                trace[self.table_id] = [self.rules[index].as_dict()]
            return self._rule_result(index, scope)
        indexes = []
        while alive:
            low = alive & -alive
            indexes.append(low.bit_length() - 1)
            alive ^= low
        if trace is not None:
            trace[self.table_id] = [self.rules[i].as_dict() for i in indexes]
        results = [self._rule_result(i, scope) for i in indexes]
        priorities = [self._priority(r) for r in results] if self.policy.needs_priorities \
            else None
        return self.policy.combine(results, priorities, warn, self.table_id)

    def _rule_result(self, index: int, scope) -> Any:
        constant = self.constant[index] if len(self.constant) > index else _NOT_CONSTANT
        if constant is not _NOT_CONSTANT:
            return dict(constant) if type(constant) is dict else constant
        entries = self.entries[index]
        if self.single:
            return self._output_value(0, entries[0], scope)
        return {o.name: self._output_value(n, e, scope)
                for n, (o, e) in enumerate(zip(self.outputs, entries))}

    def _output_value(self, n: int, entry, scope) -> Any:
        if entry is None:
            return None
        value = entry.evaluate(scope)
        output = self.outputs[n]
        if value is None:
            return None
        if not output.type.is_any:
            value = output.type.coerce(value, scope.warn,
                                       f"decision table {self.table_id} output {output.name}")
        if output.allowed is not None and value is not None \
                and not output.allowed.matches(value, scope):
            scope.warn(f"decision table {self.table_id}: output {output.name} value {value!r} "
                       "is not among its output values; null used")
            return None
        return value

    def _priority(self, result: Any) -> tuple:
        values = [result] if self.single else [result.get(o.name) for o in self.outputs]
        key = []
        for output, value in zip(self.outputs, values):
            rank = len(output.priority_tests)
            for i, test in enumerate(output.priority_tests):
                if test.matches(value, None):
                    rank = i
                    break
            key.append(rank)
        return tuple(key)

    def _defaults(self, scope) -> Any:
        values = [o.default.evaluate(scope) if o.default is not None else None
                  for o in self.outputs]
        if self.single:
            return values[0]
        return {o.name: v for o, v in zip(self.outputs, values)}


_NOT_CONSTANT = object()


class _Const:
    """An output entry that is a literal: no FEEL evaluation needed."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def evaluate(self, scope) -> Any:
        return self.value

