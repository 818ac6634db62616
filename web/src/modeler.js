// The analysts' BPMN modeler: bpmn-js with Camunda 7's properties panel and moddle extension, so
// files opened and saved here keep their camunda:* attributes (they stay Camunda files).
import BpmnModeler from "bpmn-js/lib/Modeler";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import {
  BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import { layoutProcess } from "bpmn-auto-layout";

// Files written by hand or by engines' own tools may have no diagram (no BPMNDiagram): lay the
// process out so it can be drawn, instead of showing nothing.
async function withLayout(xml) {
  return /BPMNDiagram/.test(xml) ? { xml, laidOut: false } : { xml: await layoutProcess(xml), laidOut: true };
}
import { diff } from "bpmn-js-differ";

function modeler(container, panel) {
  return new BpmnModeler({
    container,
    propertiesPanel: { parent: panel },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule, CamundaBehaviorsModule],
    moddleExtensions: { camunda: camundaModdle },
  });
}

function viewer(container) {
  return new NavigatedViewer({ container, moddleExtensions: { camunda: camundaModdle } });
}

window.OmniflowBpmn = { modeler, viewer, diff, camundaModdle, withLayout };
