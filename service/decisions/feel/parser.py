"""Parse FEEL tokens into a small AST by recursive descent, resolving multi-word names.

The AST is plain tuples ``(kind, position, *fields)``; the compiler turns them into closures
once, so the tree is never walked again while evaluating. Precedence, loosest first:
textual (``if``/``for``/``some``/``every``/``function``), ``or``, ``and``, comparison
(``= != < <= > >=``, ``between``, ``in``, ``instance of``), ``+ -``, ``* /``, ``**``, unary
``-``, then postfix filter ``[...]``, path ``.name`` and invocation ``(...)``.

Names: at every place a name may stand the parser takes the longest match among the names it
knows (built-ins, ``known_names`` from the caller, and names the expression itself introduces:
context keys, ``for`` variables, function parameters), or else joins adjacent plain words.
"""
from __future__ import annotations

from .errors import FeelSyntaxError
from .lexer import EOF, KEYWORDS, NAME, NUMBER, OP, STRING, TEMPORAL, Token, tokenize
from .names import NameIndex

_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})

#: The compiler and the evaluator recurse once or twice per level of the syntax tree, and the
#: parser about ten times per nested expression; these bounds keep all three well inside
#: Python's recursion limit wherever the caller's stack stands. Real FEEL nests a few levels.
MAX_NESTING = 48
MAX_DEPTH = 200
_NAME_SYMBOLS = frozenset({".", "/", "-", "'", "+", "*", "’"})


class Parser:
    """Parse one FEEL expression or list of unary tests from text."""

    def __init__(self, text: str, names: NameIndex, label: str | None = None):
        self.text = text
        self.label = label
        self.tokens = tokenize(text, label)
        self.i = 0
        self.names = names
        self.in_range_end = False  # "[1..10[": the closing "[" is not a filter
        self.depth = 0  # nested expressions being parsed, see MAX_NESTING

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def fail(self, message: str, token: Token | None = None):
        token = token or self.tok
        raise FeelSyntaxError(message, expression=self.text, column=token.start + 1,
                              name=self.label)

    def at_op(self, text: str) -> bool:
        t = self.tokens[self.i]
        return t.kind == OP and t.value == text

    def at_word(self, text: str) -> bool:
        t = self.tokens[self.i]
        return t.kind == NAME and t.value == text

    def expect_op(self, text: str) -> Token:
        if not self.at_op(text):
            self.fail(f"expected {text!r} but found {self.describe(self.tok)}")
        self.i += 1
        return self.tokens[self.i - 1]

    def expect_word(self, text: str) -> Token:
        if not self.at_word(text):
            self.fail(f"expected {text!r} but found {self.describe(self.tok)}")
        self.i += 1
        return self.tokens[self.i - 1]

    def describe(self, token: Token) -> str:
        return "end of expression" if token.kind == EOF else repr(self.text[token.start:token.end])

    def finish(self):
        if self.tok.kind != EOF:
            self.fail(f"unexpected {self.describe(self.tok)}")

    # -- names ---------------------------------------------------------------------------
    def name(self, what: str = "a name") -> str:
        """Consume a (possibly multi-word) name and return it with words joined by spaces."""
        t = self.tok
        if t.kind != NAME:
            self.fail(f"expected {what} but found {self.describe(t)}")
        known = self.names.longest(self.tokens, self.i, self.text)
        plain = 0
        while True:
            u = self.tokens[self.i + plain]
            if u.kind == NAME and (u.value not in KEYWORDS or plain == 0 and known == 0):
                plain += 1
            elif u.kind == NUMBER and plain > 0:  # "decision A 1": no other reading exists
                plain += 1
            else:
                break
        count = max(known, plain, 1)
        return self.take_name(count)

    def take_name(self, count: int) -> str:
        first, last = self.tokens[self.i], self.tokens[self.i + count - 1]
        self.i += count
        return _normalise(self.text[first.start:last.end])

    def declared_name(self, stops: tuple[str, ...]) -> str:
        """Consume a name being introduced (context key, parameter, iterator) up to a stop."""
        start = self.i
        while True:
            t = self.tok
            if t.kind == EOF or (t.kind == OP and t.value in stops) or (
                    t.kind == NAME and t.value in stops):
                break
            if t.kind not in (NAME, OP, NUMBER) or (
                    t.kind == OP and t.value not in _NAME_SYMBOLS):
                self.fail(f"unexpected {self.describe(t)} in a name")
            self.i += 1
        if self.i == start:
            self.fail(f"expected a name but found {self.describe(self.tok)}")
        value = _normalise(self.text[self.tokens[start].start:self.tokens[self.i - 1].end])
        self.names.add(value)
        return value

    # -- expressions ---------------------------------------------------------------------
    def expression(self):
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(f"expression is nested more than {MAX_NESTING} levels deep")
        try:
            return self._expression()
        finally:
            self.depth -= 1

    def _expression(self):
        t = self.tok
        if t.kind == NAME:
            if t.value == "if":
                return self.conditional()
            if t.value in ("for",) and self.peek().kind == NAME:
                return self.for_loop()
            if t.value in ("some", "every") and self.peek().kind == NAME:
                return self.quantified()
            if t.value == "function" and self.peek().is_op("("):
                return self.function_definition()
        return self.disjunction()

    def conditional(self):
        pos = self.expect_word("if").start
        condition = self.expression()
        self.expect_word("then")
        then = self.expression()
        self.expect_word("else")
        otherwise = self.expression()
        return ("if", pos, condition, then, otherwise)

    def iterators(self, in_for: bool):
        iterators = []
        while True:
            var = self.declared_name(("in",))
            self.expect_word("in")
            domain = self.expression()
            end = None
            if in_for and self.at_op(".."):
                self.i += 1
                end = self.expression()
            iterators.append((var, domain, end))
            if not self.at_op(","):
                return iterators
            self.i += 1

    def for_loop(self):
        pos = self.expect_word("for").start
        self.names.add("partial")
        iterators = self.iterators(True)
        self.expect_word("return")
        return ("for", pos, iterators, self.expression())

    def quantified(self):
        t = self.tok
        self.i += 1
        iterators = self.iterators(False)
        self.expect_word("satisfies")
        return (t.value, t.start, iterators, self.expression())

    def function_definition(self):
        pos = self.expect_word("function").start
        self.expect_op("(")
        params = []
        while not self.at_op(")"):
            pname = self.declared_name((",", ")", ":"))
            ptype = None
            if self.at_op(":"):
                self.i += 1
                ptype = self.type_text()
            params.append((pname, ptype))
            if not self.at_op(")"):
                self.expect_op(",")
        self.expect_op(")")
        if self.at_word("external"):
            # Java and PMML functions would run code outside FEEL, which is untrusted input
            # here: refused when compiled, so a model holding one never deploys
            self.fail("external functions (Java, PMML) are not allowed")
        return ("function", pos, params, self.expression())

    def disjunction(self):
        left = self.conjunction()
        while self.at_word("or"):
            pos = self.tok.start
            self.i += 1
            left = ("or", pos, left, self.conjunction())
        return left

    def conjunction(self):
        left = self.comparison()
        while self.at_word("and"):
            pos = self.tok.start
            self.i += 1
            left = ("and", pos, left, self.comparison())
        return left

    def comparison(self):
        left = self.additive()
        while True:
            t = self.tok
            if t.kind == OP and t.value in _COMPARISONS:
                self.i += 1
                left = ("cmp", t.start, t.value, left, self.additive())
            elif t.is_word("between"):
                self.i += 1
                low = self.additive()
                self.expect_word("and")
                left = ("between", t.start, left, low, self.additive())
            elif t.is_word("in"):
                self.i += 1
                if self.at_op("("):
                    tests = self.parenthesised_tests()
                else:
                    tests = [self.positive_unary_test()]
                left = ("in", t.start, left, tests)
            elif t.is_word("instance") and self.peek().is_word("of"):
                self.i += 2
                left = ("instance", t.start, left, self.type_text())
            else:
                return left

    def parenthesised_tests(self):
        """Parse ``( tests )`` after ``in``: a list of tests, or a range/expression in parens.

        Decided without backtracking: re-reading the parenthesis as an expression would parse
        each nested ``in (...)`` twice, exponential in the nesting depth.
        """
        open_tok = self.expect_op("(")
        saved, self.in_range_end = self.in_range_end, False
        try:
            first = self.positive_unary_test()
            if self.at_op(".."):  # "(1..5]" is an open range, not a list of tests
                node = self.range_rest(False, self._as_expression(first), open_tok)
                return [("test-expr", open_tok.start, self.postfix_of(node))]
            tests = [first]
            while self.at_op(","):
                self.i += 1
                tests.append(self.positive_unary_test())
            self.expect_op(")")
        finally:
            self.in_range_end = saved
        if len(tests) == 1 and self.tok.kind == OP and self.tok.value in ("[", ".", "("):
            # "(x)[1]": a postfixed expression after all
            node = self.postfix_of(self._as_expression(first))
            return [("test-expr", open_tok.start, node)]
        return tests

    def _as_expression(self, test):
        """Read a positive unary test as the expression it also is (``< 5`` as a range)."""
        if test[0] == "test-expr":
            return test[2]
        return ("unary-range", test[1], test[2], test[3])

    def positive_unary_test(self):
        t = self.tok
        if t.kind == OP and t.value in _COMPARISONS:
            self.i += 1
            return ("test-cmp", t.start, t.value, self.additive())
        return ("test-expr", t.start, self.expression())

    def additive(self):
        left = self.multiplicative()
        while self.tok.kind == OP and self.tok.value in ("+", "-"):
            t = self.tok
            self.i += 1
            left = ("arith", t.start, t.value, left, self.multiplicative())
        return left

    def multiplicative(self):
        left = self.exponent()
        while self.tok.kind == OP and self.tok.value in ("*", "/"):
            t = self.tok
            self.i += 1
            left = ("arith", t.start, t.value, left, self.exponent())
        return left

    def exponent(self):
        left = self.unary()
        while self.at_op("**"):
            t = self.tok
            self.i += 1
            left = ("arith", t.start, "**", left, self.unary())
        return left

    def unary(self):
        signs = []  # read iteratively: "- - - 1" must not cost a Python frame per sign
        while self.at_op("-") or self.at_op("+"):
            if self.tok.value == "-":
                signs.append(self.tok.start)
            self.i += 1
        node = self.postfix()
        for start in reversed(signs):
            node = ("neg", start, node)
        return node

    def postfix(self):
        return self.postfix_of(self.primary())

    def postfix_of(self, node):
        """Apply the filters, paths and invocations that follow ``node``."""
        while True:
            t = self.tok
            if t.is_op("[") and not self.in_range_end:
                self.i += 1
                condition = self.expression()
                self.expect_op("]")
                node = ("filter", t.start, node, condition)
            elif t.is_op("."):
                self.i += 1
                if self.tok.kind != NAME:
                    self.fail(f"expected a name after '.' but found {self.describe(self.tok)}")
                node = ("path", t.start, node, self.name())
            elif t.is_op("("):
                node = ("call", t.start, node, *self.arguments())
            else:
                return node

    def arguments(self):
        self.expect_op("(")
        positional, named = [], []
        while not self.at_op(")"):
            if self._named_argument_ahead():
                pname = self.declared_name((":",))
                self.expect_op(":")
                named.append((pname, self.expression()))
            else:
                positional.append(self.expression())
            if not self.at_op(")"):
                self.expect_op(",")
                if self.at_op(")"):
                    self.fail("expected an argument")
        self.expect_op(")")
        if positional and named:
            self.fail("cannot mix positional and named arguments")
        return positional, (named if named else None)

    def _named_argument_ahead(self) -> bool:
        j = self.i
        while self.tokens[j].kind == NAME or (
                self.tokens[j].kind == OP and self.tokens[j].value in _NAME_SYMBOLS):
            j += 1
        return j > self.i and self.tokens[j].is_op(":")

    def primary(self):
        saved, self.in_range_end = self.in_range_end, False
        try:
            return self._primary()
        finally:
            self.in_range_end = saved

    def _primary(self):
        t = self.tok
        kind = t.kind
        if kind == NUMBER:
            self.i += 1
            return ("const", t.start, t.value)
        if kind == STRING:
            self.i += 1
            return ("const", t.start, t.value)
        if kind == TEMPORAL:
            self.i += 1
            return ("temporal", t.start, t.value)
        if kind == NAME:
            value = t.value
            if value == "true" or value == "false":
                self.i += 1
                return ("const", t.start, value == "true")
            if value == "null":
                self.i += 1
                return ("null", t.start)
            if value == "if":
                return self.conditional()
            if value == "for" and self.peek().kind == NAME:
                return self.for_loop()
            if value in ("some", "every") and self.peek().kind == NAME:
                return self.quantified()
            if value == "function" and self.peek().is_op("("):
                return self.function_definition()
            if value in KEYWORDS and not self.names.longest(self.tokens, self.i, self.text):
                self.fail(f"unexpected keyword {value!r}")
            return ("name", t.start, self.name())
        if kind == OP:
            value = t.value
            if value == "(":
                self.i += 1
                following = self.tok
                if following.kind == OP and following.value in ("=", "!="):
                    # "(=10)", "(!=10)": a range written as a unary test (DMN 1.5), only in
                    # parentheses, so that "== 10" stays the syntax error it is
                    self.i += 1
                    node = ("unary-range", following.start, following.value, self.additive())
                    self.expect_op(")")
                    return node
                inner = self.expression()
                if self.at_op(".."):
                    return self.range_rest(False, inner, t)
                self.expect_op(")")
                return inner
            if value == "[":
                self.i += 1
                if self.at_op("]"):
                    self.i += 1
                    return ("list", t.start, [])
                first = self.expression()
                if self.at_op(".."):
                    return self.range_rest(True, first, t)
                items = [first]
                while self.at_op(","):
                    self.i += 1
                    items.append(self.expression())
                self.expect_op("]")
                return ("list", t.start, items)
            if value == "]":
                self.i += 1
                first = self.expression()
                if not self.at_op(".."):
                    self.fail("expected '..' in a range")
                return self.range_rest(False, first, t)
            if value == "{":
                return self.context()
            if value in ("<", "<=", ">", ">="):  # "< 10" as a range
                self.i += 1
                return ("unary-range", t.start, value, self.additive())
        self.fail(f"unexpected {self.describe(t)}")

    def range_rest(self, start_included: bool, start, open_tok: Token):
        self.expect_op("..")
        saved, self.in_range_end = self.in_range_end, True
        end = self.expression()
        self.in_range_end = saved
        t = self.tok
        if t.is_op("]"):
            end_included = True
        elif t.is_op(")") or t.is_op("["):
            end_included = False
        else:
            self.fail(f"expected ']' or ')' to close a range but found {self.describe(t)}")
        self.i += 1
        return ("range", open_tok.start, start, end, start_included, end_included)

    def context(self):
        t = self.expect_op("{")
        entries = []
        while not self.at_op("}"):
            if self.tok.kind == STRING:
                key = self.tok.value
                self.names.add(key)
                self.i += 1
            else:
                key = self.declared_name((":",))
            self.expect_op(":")
            entries.append((key, self.expression()))
            if not self.at_op("}"):
                self.expect_op(",")
        self.expect_op("}")
        return ("context", t.start, entries)

    # -- types ---------------------------------------------------------------------------
    def type_text(self) -> str:
        """Consume a type (``number``, ``list<string>``, ``function<a>->b``) and return it."""
        start = self.tok.start
        depth = 0
        while True:
            t = self.tok
            if t.kind == EOF:
                break
            if t.kind == OP:
                if t.value == "<":
                    depth += 1
                elif t.value == ">":
                    if depth == 0:
                        break
                    depth -= 1
                elif t.value == "->":
                    pass
                elif t.value in (",", ")", "]", "}", ":") and depth == 0:
                    break
                elif t.value not in (",", ":", ".") and depth == 0:
                    break
            elif t.kind == NAME and depth == 0 and t.value in KEYWORDS - {"function", "and", "of"}:
                break
            elif t.kind == NAME and depth == 0 and t.value == "and" and not (
                    self._type_words_continue()):
                break
            elif t.kind not in (NAME, OP):
                break
            self.i += 1
        if self.tok.start == start:
            self.fail("expected a type name")
        return _normalise(self.text[start:self.tokens[self.i - 1].end])

    def _type_words_continue(self) -> bool:
        # "date and time", "days and time duration", "years and months duration"
        nxt = self.peek()
        return nxt.kind == NAME and nxt.value in ("time", "months")


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _guard_depth(parse):
    """Refuse a syntax tree deeper than ``MAX_DEPTH`` (``1 + 1 + ...`` chains nest too).

    A ``RecursionError`` is turned into the same syntax error, as a last resort.
    """
    def guarded(text: str, names: NameIndex, label: str | None = None):
        try:
            tree = parse(text, names, label)
        except RecursionError:
            tree = None
        if tree is None or _depth(tree) > MAX_DEPTH:
            raise FeelSyntaxError(f"expression nests or chains operations more than "
                                  f"{MAX_DEPTH} deep", expression=text, column=1, name=label)
        return tree
    guarded.__doc__ = parse.__doc__
    return guarded


def _depth(tree) -> int:
    """Return the nesting depth of a syntax tree, without recursing."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (tuple, list)):
            deepest = max(deepest, depth)
            stack.extend((part, depth + 1) for part in node if isinstance(part, (tuple, list)))
    return deepest


@_guard_depth
def parse_expression(text: str, names: NameIndex, label: str | None = None):
    """Return the AST of a FEEL expression."""
    parser = Parser(text, names, label)
    if parser.tok.kind == EOF:
        parser.fail("empty expression")
    node = parser.expression()
    parser.finish()
    return node


@_guard_depth
def parse_unary_tests(text: str, names: NameIndex, label: str | None = None):
    """Return ``("any",)``, ``("not", tests)`` or ``("tests", tests)`` for an input entry."""
    parser = Parser(text, names, label)
    if parser.tok.is_op("-") and parser.peek().kind == EOF:
        return ("any",)
    if parser.tok.kind == EOF:
        parser.fail("empty unary tests")
    negated = False
    if parser.tok.is_word("not") and parser.peek().is_op("("):
        # not(...) over the whole entry, unless it is the "not" function applied inside a test
        save = parser.i
        parser.i += 2
        try:
            tests = _test_list(parser, ")")
            parser.expect_op(")")
            if parser.tok.kind == EOF:
                return ("not", tests)
        except FeelSyntaxError:
            pass
        parser.i = save
    tests = _test_list(parser, None)
    parser.finish()
    return ("not", tests) if negated else ("tests", tests)


def _test_list(parser: Parser, closer: str | None):
    tests = [parser.positive_unary_test()]
    while parser.at_op(","):
        parser.i += 1
        tests.append(parser.positive_unary_test())
    return tests
