// The analysts' DMN editor: dmn-js (DRD, decision tables, literal expressions) with Camunda's
// moddle extension, so camunda:* attributes (history time to live, version tags) survive a save.
import DmnModeler from "dmn-js/lib/Modeler";
import camundaDmnModdle from "camunda-dmn-moddle/resources/camunda.json";

function editor(container) {
  return new DmnModeler({
    container,
    common: { keyboard: { bindTo: document } },
    moddleExtensions: { camunda: camundaDmnModdle },
  });
}

window.OmniflowDmn = { editor };
