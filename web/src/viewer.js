// The case view's diagram: the read-only bpmn-js viewer (pan and zoom), with Camunda's moddle
// extension so camunda:* attributes read as they were written.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import { layoutProcess } from "bpmn-auto-layout";

// Files written by hand or by engines' own tools may have no diagram (no BPMNDiagram): lay the
// process out so it can be drawn, instead of showing nothing.
async function withLayout(xml) {
  return /BPMNDiagram/.test(xml) ? { xml, laidOut: false } : { xml: await layoutProcess(xml), laidOut: true };
}

function viewer(container) {
  return new NavigatedViewer({ container, moddleExtensions: { camunda: camundaModdle } });
}

window.OmniflowViewer = { viewer, withLayout };
