"""Decision requirements graphs and boxed expressions evaluated end to end."""
from decimal import Decimal

import pytest

from service.decisions import DecisionModel, DecisionNotFound

from .dmn_factory import definitions, input_data

DRD = definitions(f"""
{input_data("order value", "number")}
{input_data("tier", "string")}
<businessKnowledgeModel id="bkm_discount" name="discount rate">
  <variable name="discount rate"/>
  <encapsulatedLogic>
    <formalParameter name="tier" typeRef="string"/>
    <decisionTable id="rate_table" hitPolicy="UNIQUE">
      <input id="rt_i"><inputExpression typeRef="string"><text>tier</text></inputExpression></input>
      <output id="rt_o" typeRef="number"/>
      <rule id="rate_gold"><inputEntry><text>"gold"</text></inputEntry><outputEntry><text>0.1</text></outputEntry></rule>
      <rule id="rate_other"><inputEntry><text>not("gold")</text></inputEntry><outputEntry><text>0</text></outputEntry></rule>
    </decisionTable>
  </encapsulatedLogic>
</businessKnowledgeModel>
<decision id="discount" name="discount">
  <variable name="discount" typeRef="number"/>
  <informationRequirement><requiredInput href="#in_order value"/></informationRequirement>
  <informationRequirement><requiredInput href="#in_tier"/></informationRequirement>
  <knowledgeRequirement><requiredKnowledge href="#bkm_discount"/></knowledgeRequirement>
  <invocation>
    <literalExpression><text>discount rate</text></literalExpression>
    <binding><parameter name="tier"/><literalExpression><text>tier</text></literalExpression></binding>
  </invocation>
</decision>
<decision id="total" name="total">
  <variable name="total" typeRef="number"/>
  <informationRequirement><requiredDecision href="#discount"/></informationRequirement>
  <informationRequirement><requiredInput href="#in_order value"/></informationRequirement>
  <knowledgeRequirement><requiredKnowledge href="#bkm_discount"/></knowledgeRequirement>
  <context>
    <contextEntry><variable name="rate"/><literalExpression><text>discount rate("gold")</text></literalExpression></contextEntry>
    <contextEntry><variable name="net"/><literalExpression><text>order value * (1 - discount)</text></literalExpression></contextEntry>
    <contextEntry><literalExpression><text>net</text></literalExpression></contextEntry>
  </context>
</decision>
<decision id="lines" name="lines">
  <variable name="lines"/>
  <relation>
    <column name="sku"/><column name="qty"/>
    <row><literalExpression><text>"A1"</text></literalExpression><literalExpression><text>2</text></literalExpression></row>
    <row><literalExpression><text>"B2"</text></literalExpression><literalExpression><text>1 + 4</text></literalExpression></row>
  </relation>
</decision>
<decision id="summary" name="summary">
  <variable name="summary"/>
  <informationRequirement><requiredDecision href="#lines"/></informationRequirement>
  <context>
    <contextEntry><variable name="count"/><literalExpression><text>count(lines)</text></literalExpression></contextEntry>
    <contextEntry><variable name="units"/><literalExpression><text>sum(lines.qty)</text></literalExpression></contextEntry>
    <contextEntry><variable name="skus"/><list>
      <literalExpression><text>lines[1].sku</text></literalExpression>
      <literalExpression><text>lines[2].sku</text></literalExpression>
    </list></contextEntry>
  </context>
</decision>
<decisionService id="pricing" name="pricing">
  <variable name="pricing"/>
  <outputDecision href="#total"/>
  <encapsulatedDecision href="#discount"/>
  <inputData href="#in_order value"/>
  <inputData href="#in_tier"/>
</decisionService>
<decision id="via_service" name="via service">
  <variable name="via service"/>
  <knowledgeRequirement><requiredKnowledge href="#pricing"/></knowledgeRequirement>
  <literalExpression><text>pricing(200, "gold")</text></literalExpression>
</decision>
""")


@pytest.fixture(scope="module")
def model():
    return DecisionModel.parse(DRD)


def test_drd_evaluates_required_decisions_first_and_reports_them(model):
    result = model.evaluate("total", {"order value": 100, "tier": "gold"})
    assert result.value == Decimal("90.0")
    assert result.decisions["discount"] == Decimal("0.1")
    assert result.required == {"discount": Decimal("0.1")}
    assert result.matched_rules == {"rate_table": [{"rule_id": "rate_gold", "row": 1}]}


def test_bkm_invocation_and_call_from_feel(model):
    assert model.evaluate("discount", {"tier": "silver"}).value == Decimal(0)
    assert model.evaluate("total", {"order value": 10, "tier": "bronze"}).value == Decimal(10)


def test_decision_given_in_inputs_overrides_its_logic(model):
    result = model.evaluate("total", {"order value": 100, "tier": "gold", "discount": 0.5})
    assert result.value == Decimal("50.0")


def test_relation_list_and_context(model):
    assert model.evaluate("lines", {}).value == [
        {"sku": "A1", "qty": Decimal(2)}, {"sku": "B2", "qty": Decimal(5)}]
    assert model.evaluate("summary", {}).value == {
        "count": Decimal(2), "units": Decimal(7), "skus": ["A1", "B2"]}


def test_decision_service_direct_and_from_feel(model):
    result = model.decision_service("pricing", {"order value": 200, "tier": "gold"})
    assert result.value == Decimal("180.0")
    assert model.evaluate("via service", {}).value == Decimal("180.0")


def test_listing_decisions_and_inputs(model):
    assert [d.name for d in model.decisions] == ["discount", "total", "lines", "summary",
                                                 "via service"]
    assert model.inputs_of("total") == ["order value", "tier"]
    with pytest.raises(DecisionNotFound):
        model.evaluate("nope", {})


def test_missing_input_is_null_not_an_error(model):
    result = model.evaluate("total", {"tier": "gold"})
    assert result.value is None
    assert result.warnings


def test_item_definitions_coerce_and_check_allowed_values():
    model = DecisionModel.parse(definitions("""
<itemDefinition name="tTier"><typeRef>string</typeRef>
  <allowedValues><text>"gold","silver"</text></allowedValues></itemDefinition>
<itemDefinition name="tCustomer">
  <itemComponent name="name"><typeRef>string</typeRef></itemComponent>
  <itemComponent name="tier"><typeRef>tTier</typeRef></itemComponent>
</itemDefinition>
<itemDefinition name="tNames" isCollection="true"><typeRef>string</typeRef></itemDefinition>
<inputData id="in_c" name="customer"><variable name="customer" typeRef="tCustomer"/></inputData>
<decision id="names" name="names">
  <variable name="names" typeRef="tNames"/>
  <informationRequirement><requiredInput href="#in_c"/></informationRequirement>
  <literalExpression><text>customer.name</text></literalExpression>
</decision>
<decision id="is_customer" name="is customer">
  <variable name="is customer" typeRef="boolean"/>
  <informationRequirement><requiredInput href="#in_c"/></informationRequirement>
  <literalExpression><text>customer instance of tCustomer</text></literalExpression>
</decision>
"""))
    ok = model.evaluate("names", {"customer": {"name": "Ann", "tier": "gold"}})
    assert ok.value == ["Ann"]  # a single element where a collection is expected
    assert model.evaluate("is customer", {"customer": {"name": "Ann", "tier": "gold"}}).value
    bad = model.evaluate("names", {"customer": {"name": "Ann", "tier": "tin"}})
    assert bad.value is None and bad.inputs == {"customer": None}


def test_imported_model_bkm_and_types():
    imported = definitions("""
<itemDefinition name="tPerson"><itemComponent name="name"><typeRef>string</typeRef></itemComponent></itemDefinition>
<businessKnowledgeModel id="hello" name="Say Hello"><variable name="Say Hello"/>
  <encapsulatedLogic><formalParameter name="p" typeRef="tPerson"/>
    <literalExpression><text>"Hello " + p.name</text></literalExpression></encapsulatedLogic>
</businessKnowledgeModel>""", namespace="http://omniflow.test/lib", name="lib")
    main = definitions("""
<import namespace="http://omniflow.test/lib" name="lib" importType="https://www.omg.org/spec/DMN/20191111/MODEL/"/>
<itemDefinition name="tOrder"><itemComponent name="buyer" typeRef="lib.tPerson"/></itemDefinition>
<inputData id="in_p" name="person"><variable name="person" typeRef="lib.tPerson"/></inputData>
<inputData id="in_o" name="order"><variable name="order" typeRef="tOrder"/></inputData>
<decision id="typed" name="typed"><variable name="typed" typeRef="boolean"/>
  <informationRequirement><requiredInput href="#in_o"/></informationRequirement>
  <literalExpression><text>order instance of tOrder</text></literalExpression>
</decision>
<decision id="greet" name="greet"><variable name="greet" typeRef="string"/>
  <informationRequirement><requiredInput href="#in_p"/></informationRequirement>
  <knowledgeRequirement><requiredKnowledge href="http://omniflow.test/lib#hello"/></knowledgeRequirement>
  <literalExpression><text>lib.Say Hello(person)</text></literalExpression>
</decision>""")
    model = DecisionModel.parse(main, imports=[imported])
    assert model.evaluate("greet", {"person": {"name": "Bo"}}).value == "Hello Bo"
    assert model.evaluate("typed", {"order": {"buyer": {"name": "Bo"}}}).value is True
    wrong = model.evaluate("typed", {"order": {"buyer": {"name": 7}}})
    assert wrong.value is False and wrong.inputs == {"order": None}  # coerced to null


def test_dmn_1_5_boxed_conditional_iterators_and_filter():
    def lit(text):
        return f"<literalExpression><text>{text}</text></literalExpression>"
    model = DecisionModel.parse(definitions(f"""
<decision id="c" name="c"><conditional>
  <if>{lit("1 &lt; 2")}</if><then>{lit('"yes"')}</then><else>{lit('"no"')}</else>
</conditional></decision>
<decision id="f" name="f"><for iteratorVariable="x"><in>{lit("[1, 2, 3]")}</in>
  <return>{lit("x * 10")}</return></for></decision>
<decision id="s" name="s"><some iteratorVariable="x"><in>{lit("[1, 2, 3]")}</in>
  <satisfies>{lit("x &gt; 2")}</satisfies></some></decision>
<decision id="e" name="e"><every iteratorVariable="x"><in>{lit("[1, 2, 3]")}</in>
  <satisfies>{lit("x &gt; 2")}</satisfies></every></decision>
<decision id="k" name="k"><filter><in>{lit("[{a: 1}, {a: 5}]")}</in>
  <match>{lit("item.a &gt; 2")}</match></filter></decision>
""", dmn_ns="https://www.omg.org/spec/DMN/20230324/MODEL/"))
    assert model.evaluate("c", {}).value == "yes"
    assert model.evaluate("f", {}).value == [Decimal(10), Decimal(20), Decimal(30)]
    assert model.evaluate("s", {}).value is True
    assert model.evaluate("e", {}).value is False
    assert model.evaluate("k", {}).value == [{"a": Decimal(5)}]
    assert [d.name for d in DecisionModel.parse(DRD).decision_services] == ["pricing"]


def test_exported_members():
    import service.decisions as package
    public = {name for name in vars(package) if not name.startswith("_")}
    modules = {name for name in public if type(vars(package)[name]).__name__ == "module"}
    assert set(package.__all__) == public - modules - {"annotations"}


def test_imported_decisions_and_bkms_share_a_prefix_without_leaking_between_runs():
    lib = definitions("""
<inputData id="who" name="who"><variable name="who" typeRef="string"/></inputData>
<decision id="greeting" name="greeting"><variable name="greeting" typeRef="string"/>
  <informationRequirement><requiredInput href="#who"/></informationRequirement>
  <literalExpression><text>"hi " + who</text></literalExpression></decision>
<businessKnowledgeModel id="shout" name="shout"><variable name="shout"/>
  <encapsulatedLogic><formalParameter name="s" typeRef="string"/>
    <literalExpression><text>upper case(s)</text></literalExpression></encapsulatedLogic>
</businessKnowledgeModel>""", namespace="http://omniflow.test/lib2", name="lib2")
    main = definitions("""
<import namespace="http://omniflow.test/lib2" name="lib" importType="https://www.omg.org/spec/DMN/20191111/MODEL/"/>
<decision id="loud" name="loud"><variable name="loud" typeRef="string"/>
  <informationRequirement><requiredDecision href="http://omniflow.test/lib2#greeting"/></informationRequirement>
  <knowledgeRequirement><requiredKnowledge href="http://omniflow.test/lib2#shout"/></knowledgeRequirement>
  <literalExpression><text>lib.shout(lib.greeting)</text></literalExpression></decision>""")
    model = DecisionModel.parse(main, imports=[lib])
    assert model.evaluate("loud", {"lib.who": "ann"}).value == "HI ANN"
    result = model.evaluate("loud", {"{http://omniflow.test/lib2}who": "bo"})
    assert result.value == "HI BO"
    assert result.decisions == {"lib.greeting": "hi bo", "loud": "HI BO"}
    assert model.evaluate("loud", {}).value is None  # nothing left over from earlier runs
