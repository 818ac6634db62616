"""Write small BPMN documents inline, the way Camunda Modeler and bpmn.io save them.

Tests of single constructs read better with the XML next to the assertions than in a fixture
file; shared, larger processes stay in ``fixtures/``.
"""
from __future__ import annotations

NAMESPACES = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "zeebe": "http://camunda.org/schema/zeebe/1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}


def definitions(body: str, *, extra: str = "") -> bytes:
    """A ``bpmn:definitions`` document around ``body`` (processes, messages, errors...)."""
    ns = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {ns} id="defs" '
            f'targetNamespace="http://bpmn.io/schema/bpmn" {extra}>\n{body}\n'
            f'</bpmn:definitions>\n').encode()


def process(key: str, body: str, *, name: str | None = None) -> str:
    return (f'<bpmn:process id="{key}" name="{name or key}" isExecutable="true">\n{body}\n'
            f'</bpmn:process>')


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}" />'
    return (f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
            f'</bpmn:conditionExpression></bpmn:sequenceFlow>')


def chain(*ids: str) -> str:
    """Sequence flows joining ``ids`` in order (``f_a_b`` from a to b)."""
    return "\n".join(flow(f"f_{a}_{b}", a, b) for a, b in zip(ids, ids[1:]))
