"""Files drawn for Camunda 7 and 8 run unchanged; what cannot run is refused at parse.

Camunda's own invoice DRD is read from the shared interoperability corpus (never copied here).
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bench.dmn_corpus import CORPUS, corpus_files, load, outcome
from service.decisions import (DMN_NAMESPACES, DecisionModel, DmnError, NameNotProvided,
                               parse_documents)

from .dmn_factory import definitions, input_data, table_model

INVOICE = CORPUS / "dmn" / "c7__invoiceBusinessDecisions.dmn"
needs_corpus = pytest.mark.skipif(not INVOICE.is_file(), reason="interop corpus not available")


@needs_corpus
@pytest.mark.parametrize("amount, approvers", [(800, ["management"]),
                                               (30, ["accounting", "sales"])])
def test_camunda_invoice_drd_assigns_the_approver_groups(amount, approvers):
    model = DecisionModel.parse(INVOICE.read_bytes(), strict_names=True)
    result = model.evaluate("invoice-assign-approver",
                            {"amount": amount, "invoiceCategory": "Misc"})
    assert result.value == approvers
    assert result.warnings == ()


def required(decision_body: str, reader: str, *, variable: str = "", extra: str = "") -> str:
    """A model whose decision ``reader`` (a literal expression) requires decision ``a``."""
    return definitions(
        f'<decision id="a" name="Decision A">{variable}{decision_body}</decision>'
        f'<decision id="b" name="b"><informationRequirement><requiredDecision href="#a"/>'
        f'</informationRequirement><literalExpression><text>{reader}</text>'
        f'</literalExpression></decision>{extra}')


def literal(text: str) -> str:
    return f"<literalExpression><text>{text}</text></literalExpression>"


def test_a_required_decision_is_visible_under_its_dmn_name_variable_and_id():
    by_variable = required(literal("41"), "Decision A + av", variable='<variable name="av"/>')
    assert DecisionModel.parse(by_variable).evaluate("b").value == Decimal(82)
    by_id = required(literal("41"), "Decision A + a")  # Camunda 8: no variable, the id
    assert DecisionModel.parse(by_id).evaluate("b").value == Decimal(82)


def _table(outputs: list[str], rules: list[list[str]], policy: str = "UNIQUE") -> str:
    cols = "".join(f'<output id="o{n}" name="{name}"/>' for n, name in enumerate(outputs))
    rows = "".join("<rule>" + "<inputEntry><text>-</text></inputEntry>" + "".join(
        f"<outputEntry><text>{cell}</text></outputEntry>" for cell in rule) + "</rule>"
        for rule in rules)
    return (f'<decisionTable hitPolicy="{policy}"><input><inputExpression><text>1</text>'
            f'</inputExpression></input>{cols}{rows}</decisionTable>')


@pytest.mark.parametrize("outputs, rules, policy, reader, expected", [
    (["level"], [['"high"']], "UNIQUE", "level", "high"),
    (["level"], [['"x"'], ['"y"']], "COLLECT", "level", ["x", "y"]),
    (["level", "score"], [['"high"', "3"]], "UNIQUE", "[level, score]", ["high", Decimal(3)]),
    (["level", "score"], [['"x"', "1"], ['"y"', "2"]], "RULE ORDER", "[level, score]",
     [["x", "y"], [Decimal(1), Decimal(2)]]),
])
def test_camunda_7_binds_a_required_tables_outputs(outputs, rules, policy, reader, expected):
    model = DecisionModel.parse(required(_table(outputs, rules, policy), reader))
    assert model.evaluate("b").value == expected


def test_dmn_names_win_over_camunda_aliases():
    """An input data named like the required decision's output keeps its own value."""
    xml = definitions(
        '<decision id="a" name="a">' + _table(["level"], [['"from table"']]) + "</decision>"
        '<decision id="b" name="b"><informationRequirement><requiredDecision href="#a"/>'
        '</informationRequirement><informationRequirement><requiredInput href="#in_level"/>'
        '</informationRequirement>' + literal("level") + "</decision>" + input_data("level"))
    assert DecisionModel.parse(xml).evaluate("b", {"level": "given"}).value == "given"


def test_strict_names_refuse_what_nothing_provides_naming_decision_and_name():
    model = DecisionModel.parse(required(literal("41"), "Decision A + typo"))
    lenient = model.evaluate("b")
    assert lenient.value is None and any("typo" in w for w in lenient.warnings)
    with pytest.raises(NameNotProvided) as raised:
        model.evaluate("b", strict_names=True)
    assert (raised.value.decision, raised.value.decision_id, raised.value.name) == \
        ("b", "b", "typo")
    assert "decision 'b' reads 'typo'" in str(raised.value)
    strict_model = DecisionModel.parse(required(literal("41"), "Decision A + typo"),
                                       strict_names=True)
    with pytest.raises(NameNotProvided):
        strict_model.evaluate("b")
    assert strict_model.evaluate("b", strict_names=False).value is None


def test_strict_names_in_a_required_decision_and_a_table_name_that_decision():
    model = DecisionModel.parse(required(_table(["level"], [['"x"']]).replace(
        "<text>1</text>", "<text>missing_input</text>"), "level"), strict_names=True)
    with pytest.raises(NameNotProvided) as raised:
        model.evaluate("b")
    assert (raised.value.decision, raised.value.name) == ("Decision A", "missing_input")
    assert model.evaluate("b", {"missing_input": 5}).value == "x"


def test_strict_names_keep_fields_missing_from_filtered_items_null():
    model = DecisionModel.parse(definitions(
        '<decision id="d" name="d"><informationRequirement><requiredInput href="#in_items"/>'
        '</informationRequirement>' + literal("items[discount &gt; 1].sku") + "</decision>"
        + input_data("items")), strict_names=True)
    items = [{"sku": "a", "discount": 2}, {"sku": "b"}]
    assert model.evaluate("d", {"items": items}).value == ["a"]


def test_a_declared_input_that_is_not_given_is_null_even_when_strict():
    xml = table_model([(["-"], ['"any"'])], inputs=[("n", "number")],
                      outputs=[("r", "string")])
    assert DecisionModel.parse(xml, strict_names=True).evaluate("d", {}).value == "any"


IMPORTED = definitions(
    '<decision id="g" name="Greeting"><informationRequirement><requiredInput href="#in_who"/>'
    '</informationRequirement>' + literal('"Hello " + who') + "</decision>" + input_data("who"),
    namespace="http://omniflow.test/greetings", name="greetings")
IMPORTING = definitions(
    '<import namespace="http://omniflow.test/greetings" name="g" '
    'importType="https://www.omg.org/spec/DMN/20191111/MODEL/"/>'
    '<decision id="loud" name="Loud"><informationRequirement>'
    '<requiredDecision href="http://omniflow.test/greetings#g"/></informationRequirement>'
    + literal("upper case(g.Greeting)") + "</decision>",
    namespace="http://omniflow.test/main", name="main")


def test_documents_of_a_deployment_import_each_other_by_namespace():
    models = parse_documents({"main.dmn": IMPORTING, "greetings.dmn": IMPORTED})
    assert models["main.dmn"].evaluate("Loud", {"g.who": "Ada"}).value == "HELLO ADA"
    assert models["greetings.dmn"].evaluate("Greeting", {"who": "Ada"}).value == "Hello Ada"


def test_a_missing_import_names_the_file_and_namespace():
    with pytest.raises(DmnError) as raised:
        parse_documents({"main.dmn": IMPORTING})
    assert raised.value.file == "main.dmn"
    assert "http://omniflow.test/greetings" in str(raised.value)
    assert "file 'main.dmn'" in str(raised.value)
    with pytest.raises(DmnError, match="http://omniflow.test/greetings"):
        DecisionModel.parse(IMPORTING)


def test_two_documents_with_one_namespace_are_refused():
    with pytest.raises(DmnError, match="both define namespace") as raised:
        parse_documents({"a.dmn": IMPORTED, "b.dmn": IMPORTED})
    assert raised.value.file == "b.dmn"


def test_a_document_that_is_not_dmn_is_refused_naming_its_file():
    with pytest.raises(DmnError) as raised:
        parse_documents({"main.dmn": IMPORTING, "broken.dmn": "<definitions"})
    assert raised.value.file == "broken.dmn"


@pytest.mark.parametrize("namespace", sorted(DMN_NAMESPACES))
def test_every_dmn_version_namespace_parses(namespace):
    xml = table_model([(["> 1"], ['"big"'])], inputs=[("n", "number")],
                      outputs=[("r", "string")]).replace(
        "https://www.omg.org/spec/DMN/20191111/MODEL/", namespace)
    assert DecisionModel.parse(xml).evaluate("d", {"n": 5}).value == "big"
    assert {"1.1", "1.2", "1.3", "1.4", "1.5"} <= {
        {"20151101": "1.1", "20180521": "1.2", "20191111": "1.3", "20211108": "1.4",
         "20230324": "1.5"}[ns.split("/DMN/")[1][:8]] for ns in DMN_NAMESPACES}


@pytest.mark.parametrize("language", ["groovy", "javascript", "juel", "JUEL", "python"])
def test_another_expression_language_is_refused_naming_the_element(language):
    literal_xml = definitions(f'<decision id="d" name="d"><literalExpression id="lit" '
                              f'expressionLanguage="{language}"><text>1 + 1</text>'
                              f'</literalExpression></decision>')
    with pytest.raises(DmnError, match=f"expression language '{language}'") as raised:
        DecisionModel.parse(literal_xml)
    assert raised.value.element_id == "lit"
    cell_xml = table_model([(["> 1"], ['"big"'])], inputs=[("n", "number")],
                           outputs=[("r", "string")]).replace(
        "<inputEntry>", f'<inputEntry expressionLanguage="{language}">')
    with pytest.raises(DmnError, match="rule r1 .row 1., input column 1") as raised:
        DecisionModel.parse(cell_xml)
    assert raised.value.element_id == "r1"


def test_a_models_default_expression_language_applies_and_feel_uris_are_accepted():
    xml = table_model([(["> 1"], ['"big"'])], inputs=[("n", "number")],
                      outputs=[("r", "string")])
    for feel in ("https://www.omg.org/spec/DMN/20191111/FEEL/", "feel",
                 "http://www.omg.org/spec/FEEL/20140401"):
        tagged = xml.replace('id="defs"', f'id="defs" expressionLanguage="{feel}"')
        assert DecisionModel.parse(tagged).evaluate("d", {"n": 5}).value == "big"
    with pytest.raises(DmnError, match="expression language 'groovy'"):
        DecisionModel.parse(xml.replace('id="defs"', 'id="defs" expressionLanguage="groovy"'))


def test_a_java_function_definition_is_refused_naming_the_element():
    xml = definitions(
        '<businessKnowledgeModel id="bkm" name="cos"><encapsulatedLogic kind="Java">'
        '<formalParameter name="x"/><context/></encapsulatedLogic></businessKnowledgeModel>')
    with pytest.raises(DmnError, match="kind JAVA is not supported") as raised:
        DecisionModel.parse(xml)
    assert raised.value.element_id == "bkm"


@needs_corpus
def test_every_corpus_dmn_file_parses_or_is_refused_naming_the_element():
    files = corpus_files()
    roots = {path: load(path) for path in files}
    outcomes = {}
    for path in files:
        others = [r for p, r in roots.items() if p != path and not isinstance(r, Exception)]
        outcomes[Path(path).name] = outcome(roots[path], others)
    assert [f"{name}: {detail}" for name, (kind, detail) in outcomes.items()
            if kind == "error"] == []
    assert outcomes["c7__invoiceBusinessDecisions.dmn"][0] == "parsed"
    assert outcomes["c7__ExpressionLanguageTest.JUEL.dmn"][0] == "refused"
