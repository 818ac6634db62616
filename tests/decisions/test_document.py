"""Bad DMN is refused at parse time with the element at fault; hostile XML never parses."""
import pytest

from service.decisions import DecisionModel, DmnError

from .dmn_factory import definitions, table_model


def test_bad_input_entry_names_rule_row_and_column():
    xml = table_model([(["> 1"], ['"a"']), (["[1..", ], ['"b"'])], inputs=[("n", "number")],
                      outputs=[("r", "string")])
    with pytest.raises(DmnError) as info:
        DecisionModel.parse(xml)
    err = info.value
    assert "rule r2 (row 2), input column 1 (n)" in str(err)
    assert err.element_id == "r2" and err.line
    assert "column" in err.detail


def test_bad_output_entry_names_rule_and_output_column():
    xml = table_model([(["-"], ['"a" +'])], inputs=[("n", "number")],
                      outputs=[("label", "string")])
    with pytest.raises(DmnError, match=r"rule r1 \(row 1\), output column 1 \(label\)"):
        DecisionModel.parse(xml)


def test_rule_with_wrong_number_of_entries():
    xml = table_model([(["-", "-"], ['"a"'])], inputs=[("n", "number")],
                      outputs=[("r", "string")])
    with pytest.raises(DmnError, match="rule r1 .row 1. has 2 input"):
        DecisionModel.parse(xml)


def test_unknown_hit_policy_and_missing_reference_and_cycle():
    with pytest.raises(DmnError, match="unknown hit policy"):
        DecisionModel.parse(table_model([(["-"], ["1"])], inputs=[("n", "number")],
                                        outputs=[("r", "number")], hit_policy="SOMETIMES"))
    with pytest.raises(DmnError, match="refers to '#nowhere'"):
        DecisionModel.parse(definitions(
            '<decision id="d" name="d"><informationRequirement><requiredInput href="#nowhere"/>'
            '</informationRequirement><literalExpression><text>1</text></literalExpression>'
            '</decision>'))
    cycle = "".join(
        f'<decision id="{a}" name="{a}"><informationRequirement><requiredDecision href="#{b}"/>'
        f'</informationRequirement><literalExpression><text>{b}</text></literalExpression>'
        f'</decision>' for a, b in (("x", "y"), ("y", "x")))
    with pytest.raises(DmnError, match="cycle"):
        DecisionModel.parse(definitions(cycle))


def test_lenient_parse_nulls_only_the_broken_decision():
    xml = definitions(
        '<decision id="ok" name="ok"><literalExpression><text>1 + 1</text></literalExpression>'
        '</decision><decision id="bad" name="bad"><literalExpression><text>1 +</text>'
        '</literalExpression></decision>')
    model = DecisionModel.parse(xml, strict=False)
    assert len(model.errors) == 1 and model.errors[0].element_id == "bad"
    assert model.evaluate("ok", {}).value == 2
    assert model.evaluate("bad", {}).value is None


ENTITY_BOMB = """<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" name="x" namespace="x">
<decision id="d" name="d"><literalExpression><text>"&b;"</text></literalExpression></decision>
</definitions>"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "file:///etc/passwd">
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" name="x" namespace="x"/>
"""


@pytest.mark.parametrize("xml", [ENTITY_BOMB, EXTERNAL, ENTITY_BOMB.encode("utf-16")])
def test_doctype_and_entities_are_refused(xml):
    with pytest.raises(DmnError, match="DOCTYPE"):
        DecisionModel.parse(xml)


def test_size_cap_and_not_dmn_and_not_xml():
    xml = table_model([(["-"], ["1"])], inputs=[("n", "number")], outputs=[("r", "number")])
    with pytest.raises(DmnError, match="limit"):
        DecisionModel.parse(xml, max_bytes=100)
    with pytest.raises(DmnError, match="DMN <definitions>"):
        DecisionModel.parse("<definitions/>")
    with pytest.raises(DmnError, match="well-formed"):
        DecisionModel.parse("<definitions")


@pytest.mark.parametrize("ns", [
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
])
def test_dmn_1_1_to_1_5_namespaces(ns):
    xml = definitions('<decision id="d" name="d"><literalExpression><text>"ok"</text>'
                      '</literalExpression></decision>', dmn_ns=ns)
    assert DecisionModel.parse(xml).evaluate("d", {}).value == "ok"


def test_duplicate_drg_names_are_refused():
    xml = definitions("".join(
        f'<decision id="{i}" name="same"><literalExpression><text>1</text></literalExpression>'
        f'</decision>' for i in ("a", "b")))
    with pytest.raises(DmnError, match="two DRG elements are named 'same'") as info:
        DecisionModel.parse(xml)
    assert info.value.element_id == "b"
