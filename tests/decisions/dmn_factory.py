"""Build real DMN XML for tests: one decision table over input data, or a whole model body."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def definitions(body: str, *, namespace: str = "http://omniflow.test/model", name: str = "m",
                dmn_ns: str = DMN13, extra: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<definitions xmlns="{dmn_ns}" id="defs" name="{name}" '
            f'namespace="{namespace}"{extra}>\n{body}\n</definitions>\n')


def input_data(name: str, type_ref: str | None = None) -> str:
    t = f' typeRef="{type_ref}"' if type_ref else ""
    return (f'<inputData id="in_{name}" name="{name}"><variable name="{name}"{t}/>'
            f'</inputData>')


def table_model(rules: list[tuple[list[str], list[str]]], *, inputs: list[tuple[str, str]],
                outputs: list[tuple[str, str]], hit_policy: str = "UNIQUE",
                aggregation: str | None = None, input_values: dict[str, str] | None = None,
                output_values: dict[str, str] | None = None,
                defaults: dict[str, str] | None = None, decision_type: str | None = None) -> str:
    """One decision ``d`` (table id ``t``) over input data named like the inputs.

    ``inputs``/``outputs`` are (name, typeRef); rules are (input entries, output entries) and
    get ids ``r1``, ``r2``...
    """
    input_values = input_values or {}
    output_values = output_values or {}
    defaults = defaults or {}
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    parts = []
    for name, t in inputs:
        iv = (f"<inputValues><text>{escape(input_values[name])}</text></inputValues>"
              if name in input_values else "")
        parts.append(f'<input id="i_{name}" label="{name}"><inputExpression typeRef="{t}">'
                     f'<text>{escape(name)}</text></inputExpression>{iv}</input>')
    for name, t in outputs:
        ov = (f"<outputValues><text>{escape(output_values[name])}</text></outputValues>"
              if name in output_values else "")
        dv = (f"<defaultOutputEntry><text>{escape(defaults[name])}</text></defaultOutputEntry>"
              if name in defaults else "")
        parts.append(f'<output id="o_{name}" name="{name}" typeRef="{t}">{ov}{dv}</output>')
    for n, (ins, outs) in enumerate(rules, 1):
        cells = "".join(f"<inputEntry><text>{escape(c)}</text></inputEntry>" for c in ins)
        cells += "".join(f"<outputEntry><text>{escape(c)}</text></outputEntry>" for c in outs)
        parts.append(f'<rule id="r{n}">{cells}</rule>')
    reqs = "".join(f'<informationRequirement><requiredInput href="#in_{name}"/>'
                   f'</informationRequirement>' for name, _ in inputs)
    dtype = f' typeRef="{decision_type}"' if decision_type else ""
    body = (f'<decision id="d" name="d"><variable name="d"{dtype}/>{reqs}'
            f'<decisionTable id="t" hitPolicy={quoteattr(hit_policy)}{agg}>{"".join(parts)}'
            f'</decisionTable></decision>')
    body += "".join(input_data(name, t) for name, t in inputs)
    return definitions(body)
