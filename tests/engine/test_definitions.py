"""Deploy-time validation: safe XML, reserved ids, element and line of every fault."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.engine import ProcessLibrary, parse_definitions
from service.errors import DefinitionInvalid

from conftest import FIXTURES, source


def test_reports_processes_and_their_references():
    found = {d.key: d for d in parse_definitions(source("order.bpmn", "structures.bpmn", "timers.bpmn"))}
    order = found["order_exception"]
    assert order.file == "order.bpmn" and order.name == "Order exception"
    assert order.decision_refs == ("approval_authority", "exception_routing")
    assert order.connectors == ("erp.post_refund", "notify.email")
    assert order.message_names == ("supplier_confirmation",)
    assert set(found) >= {"parallel", "sub_loop", "per_item", "sla", "ticker", "wait_then_act"}


def _loop_with(old: str, new: str) -> dict[str, bytes]:
    text = (FIXTURES / "loop.bpmn").read_text()
    assert old in text
    return {"loop.bpmn": text.replace(old, new).encode()}


def test_doctype_and_entities_are_refused():
    text = (FIXTURES / "loop.bpmn").read_text().replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    with pytest.raises(DefinitionInvalid, match="DOCTYPE"):
        parse_definitions({"evil.bpmn": text.encode()})


def test_size_cap():
    with pytest.raises(DefinitionInvalid, match="limit"):
        parse_definitions(source("loop.bpmn"), max_bytes=100)


def test_reserved_ids_are_refused_with_line():
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(_loop_with('id="end" name="Done"', 'id="End" name="Done"'))
    assert info.value.extra["element"] == "End" and info.value.extra["line"] > 1


def test_bad_condition_names_the_flow():
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(_loop_with("${count &lt; limit}", "${count &lt;&lt;&lt; limit}"))
    assert info.value.extra["element"] == "f_again" and info.value.extra["file"] == "loop.bpmn"
    assert info.value.extra["line"]


def test_malformed_xml_has_a_line():
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions({"broken.bpmn": b"<bpmn:definitions xmlns:bpmn='x'>\n<oops>"})
    assert info.value.extra["file"] == "broken.bpmn"


def _cycle(middle: str) -> dict[str, bytes]:
    """start -> a (script) -> <middle, id b> -> a, with nothing else to decide or wait."""
    return {"cycle.bpmn": f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:message id="m1" name="go"/>
  <bpmn:process id="cycle" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="a"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>
    {middle}
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a" />
    <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b" />
    <bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="a" />
  </bpmn:process>
</bpmn:definitions>""".encode()}


IO = '<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'


@pytest.mark.parametrize("middle", [
    f'<bpmn:scriptTask id="b">{IO}<bpmn:script>m = 1</bpmn:script></bpmn:scriptTask>',
    f'<bpmn:userTask id="b">{IO}</bpmn:userTask>',
    f'<bpmn:parallelGateway id="b">{IO}</bpmn:parallelGateway>',
    f'<bpmn:intermediateCatchEvent id="b">{IO}<bpmn:timerEventDefinition><bpmn:timeDuration>'
    'PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
    f'<bpmn:receiveTask id="b" messageRef="m1">{IO}</bpmn:receiveTask>',
])
def test_a_cycle_no_gateway_decides_is_refused_naming_its_elements(middle):
    """SpiffWorkflow predicts such a cycle without end: a RecursionError at the first start."""
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(_cycle(middle))
    assert info.value.extra["element"] == "a" and info.value.extra["line"] == 6
    assert "a -> b" in info.value.detail and "gateway decides" in info.value.detail
    with pytest.raises(DefinitionInvalid, match="a -> b"):          # and where a stored one loads
        ProcessLibrary().spec("cycle", 1, _cycle(middle))


def test_a_cycle_that_never_waits_is_refused_and_one_that_waits_is_not():
    text = (FIXTURES / "loop.bpmn").read_text()
    start, end = text.index('<bpmn:userTask id="review"'), text.index("</bpmn:userTask>")
    review = ('<bpmn:scriptTask id="review"><bpmn:incoming>f1</bpmn:incoming>'
              '<bpmn:incoming>f_again</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
              '<bpmn:script>seen = True</bpmn:script>')
    never_waits = {"loop.bpmn": (text[:start] + review + "</bpmn:scriptTask>"
                                 + text[end + len("</bpmn:userTask>"):]).encode()}
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(never_waits)
    assert "never waits" in info.value.detail
    assert info.value.detail.count("->") == 2                  # review -> count_pass -> more
    assert {"review", "count_pass", "more"} <= set(info.value.detail.replace("->", " ").split())
    assert parse_definitions(source("loop.bpmn"))               # the same loop with a user task


@pytest.mark.parametrize("path", sorted(Path(__file__).resolve().parents[2].glob("bpmn/*.bpmn")),
                         ids=lambda p: p.name)
def test_the_shipped_processes_pass_the_cycle_checks(path):
    assert parse_definitions({path.name: path.read_bytes()})
