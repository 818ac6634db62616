"""Deploy-time validation: safe XML, reserved ids, element and line of every fault."""
from __future__ import annotations

import pytest

from service.engine import parse_definitions
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
