"""What a deployment contains: every file parsed and checked before anything is written.

Each file is untrusted: size-capped, parsed with DTDs and entities refused, and checked before
anything is written (``usecases.deployments`` stores the result, all or nothing). References
(a decision a business rule task calls, a called process, a connector) must resolve within the
deployment or among what is deployed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from scoring.catalog import SPECS

from ..connectors import registry as connector_registry
from ..connectors.http_spec import CONNECTOR_SUFFIX, parse_connector
from ..decisions import DmnError, parse_documents
from ..decisions.document import load_xml
from ..engine import BINDINGS_SUFFIX, pair_bindings, parse_definitions
from ..engine.bindings import BindingsInvalid, bindings_file_for, parse_bindings
from ..errors import DefinitionInvalid, NotFound, PayloadTooLarge, ValidationFailed
from ..signals import validate_ruleset
from . import definitions, deployed_connectors
from . import timer_starts as schedule
from .casetypes import CASE_TYPE_SUFFIX, load_json, parse_case_type

RULES_SUFFIX = ".json"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# Element ids and names end up in columns of this size (definition.key, task.element_id,
# definition.name, task.name): longer ones are refused here, not by PostgreSQL mid-request.
MAX_ID_CHARS = 200
MAX_NAME_CHARS = 300


@dataclass(frozen=True)
class Parsed:
    kind: str
    key: str
    name: str | None
    file: str
    source: str
    meta: dict
    bindings: dict | None = field(default=None)    # a BPMN file's connector bindings document


def kind_of(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".bpmn") or lower.endswith(".bpmn20.xml"):
        return "bpmn"
    if lower.endswith(".dmn") or lower.endswith(".dmn11.xml"):
        return "dmn"
    if lower.endswith(CASE_TYPE_SUFFIX):
        return "casetype"
    if lower.endswith(CONNECTOR_SUFFIX):
        return "connector"
    if lower.endswith(BINDINGS_SUFFIX):
        return "bindings"
    if lower.endswith(RULES_SUFFIX):
        return "rules"
    raise ValidationFailed(f"{filename}: unsupported file type (use .bpmn, .dmn, .case.json, "
                           ".connector.json, .bindings.json or a rules .json)", file=filename)


def _bindings_of(bpmn: dict[str, bytes], bindings: dict[str, bytes]) -> dict[str, bytes]:
    """Each BPMN file's bindings file (``X.bindings.json`` beside ``X.bpmn``); a bindings file
    with no BPMN file of its name in the deployment is refused, naming it."""
    paired = pair_bindings({**bpmn, **bindings})
    for name, content in bindings.items():
        if not any(bindings_file_for(b) == name for b in bpmn):
            stem = name[: -len(BINDINGS_SUFFIX)]
            raise DefinitionInvalid(f"{name}: connector bindings need the BPMN file they bind "
                                    f"({stem}.bpmn) in the same deployment", file=name)
        try:
            parse_bindings(name, content)
        except BindingsInvalid as exc:
            raise DefinitionInvalid(str(exc), file=name) from exc
    return {name: paired[name] for name in bpmn if name in paired}


def _parse_bpmn(files: dict[str, bytes], max_bytes: int,
                bindings: dict[str, bytes] | None = None) -> list[Parsed]:
    out = []
    for definition in parse_definitions(files, max_bytes=max_bytes, bindings=bindings):
        out.append(Parsed("bpmn", definition.key, definition.name, definition.file,
                          definition.xml.decode("utf-8"),
                          {"called_processes": sorted(definition.called_processes),
                           "decision_refs": sorted(definition.decision_refs),
                           "connectors": sorted(definition.connectors),
                           "external_topics": sorted(definition.external_topics),
                           "messages": sorted(definition.message_names),
                           "message_starts": sorted(definition.message_starts),
                           "external_topics": sorted(definition.external_topics),
                           "notes": list(definition.notes),
                           **_timer_start(definition)},
                          bindings=definition.bindings or None))
        out[-1].meta.update(_versioning(definition))
    return out


def _timer_start(definition) -> dict:
    """``{"timer_start": {"timer", "kind", "element", "only"}}`` for a process with a timer
    start event (``only``: it is the process's one start event), else ``{}``. A timer start the
    worker could not schedule (an expression, a cycle that never repeats) is refused here."""
    if not definition.timer_start_kind:
        return {}
    root = etree.fromstring(definition.xml, etree.XMLParser(resolve_entities=False,
                                                            no_network=True, load_dtd=False))
    starts = root.xpath("//bpmn:process[@id=$key]/bpmn:startEvent", key=definition.key,
                        namespaces={"bpmn": BPMN_NS})
    timed = [s for s in starts if s.find(f"{{{BPMN_NS}}}timerEventDefinition") is not None]
    element = timed[0] if timed else None
    text, kind = definition.timer_start or "", definition.timer_start_kind
    try:
        if len(starts) > 1:
            # The engine starts a timer-fired case down its other start event's path: refused
            # rather than run the wrong path.
            raise ValueError("a timer start event beside other start events is not supported "
                             "yet; model the timer-started process on its own and let it call "
                             "the shared part")
        schedule.check(text, kind)
    except ValueError as exc:
        raise DefinitionInvalid(
            f"{definition.file}: the timer start event cannot be scheduled: {exc}",
            file=definition.file, element=element.get("id") if element is not None else
            definition.key, line=element.sourceline if element is not None else None) from exc
    return {"timer_start": {"timer": text, "kind": kind,
                            "element": element.get("id") if element is not None else None,
                            "only": len(starts) == 1}}


def _parse_dmn(files: dict[str, bytes], max_bytes: int) -> list[Parsed]:
    """The DMN files of a deployment, parsed together: one may import another by namespace
    (``<import namespace=...>``), among these files or what is deployed already."""
    deployed = {row.meta["namespace"]: row for row in definitions.latest_all("dmn")
                if (row.meta or {}).get("namespace")}
    documents = dict(files)
    own, tags = {}, {}
    for name, data in files.items():
        try:
            root = load_xml(data, max_bytes=max_bytes)
        except DmnError as exc:
            raise DefinitionInvalid(f"{name}: {exc}", file=name, element=exc.element_id,
                                    line=exc.line) from exc
        own[name] = [i.get("namespace") for i in root.iter("{*}import")
                     if i.get("namespace")]
        tags[name] = {d.get("id"): _dmn_version_tag(d) for d in root.iter("{*}decision")}
    given = set()
    for imports in own.values():
        for namespace in imports:
            row = deployed.get(namespace)
            if row is not None and namespace not in given:
                documents.setdefault(f"{row.file} (deployed)", row.source.encode("utf-8"))
                given.add(namespace)
    try:
        models = parse_documents(documents, max_bytes=max_bytes)
    except DmnError as exc:
        name = getattr(exc, "file", None)
        raise DefinitionInvalid(f"{name}: {exc}" if name else str(exc), file=name,
                                element=exc.element_id, line=exc.line) from exc
    out = []
    for name in files:
        model = models[name]
        decisions = [{"id": d.id, "name": d.name, "version_tag": tags[name].get(d.id)}
                     for d in model.decisions]
        out.append(Parsed("dmn", Path(name).name.rsplit(".", 1)[0], getattr(model, "name", None),
                          name, files[name].decode("utf-8"),
                          {"decisions": decisions, "namespace": model.namespace,
                           "imports": own[name]}))
    return out


CAMUNDA_DMN_NS = "http://camunda.org/schema/1.0/dmn"


def _dmn_version_tag(decision) -> str | None:
    """``camunda:versionTag`` (Camunda 7) or ``zeebe:versionTag`` (Camunda 8) of a decision."""
    tag = (decision.get(f"{{{CAMUNDA_DMN_NS}}}versionTag") or "").strip()
    if not tag:
        found = [e for e in decision.iterfind("{*}extensionElements/{*}versionTag")]
        tag = (found[0].get("value") or "").strip() if found else ""
    return tag or None


def _parse_rules(filename: str, data: bytes) -> Parsed:
    doc = load_json(filename, data)
    meta = validate_ruleset(filename, doc)
    key = doc.get("name") if isinstance(doc, dict) and isinstance(doc.get("name"), str) else None
    return Parsed("rules", key or Path(filename).stem, key, filename, data.decode("utf-8"),
                  meta or {})


def validate_files(files: dict[str, bytes], *, max_bytes: int) -> list[Parsed]:
    """Parse and check every file; raise on the first fault, naming file and element."""
    if not files:
        raise ValidationFailed("a deployment needs at least one file", field="files")
    for name, data in files.items():
        if len(data) > max_bytes:
            raise PayloadTooLarge(f"{name}: {len(data)} bytes is over the {max_bytes}-byte limit",
                                  file=name, limit=max_bytes)
    by_kind: dict[str, dict[str, bytes]] = {}
    for name, data in files.items():
        by_kind.setdefault(kind_of(name), {})[name] = data
        _check_utf8(name, data)
    parsed: list[Parsed] = []
    if by_kind.get("dmn"):
        parsed.extend(_parse_dmn(by_kind["dmn"], max_bytes))
    bindings = _bindings_of(by_kind.get("bpmn", {}), by_kind.get("bindings", {}))
    if by_kind.get("bpmn"):
        parsed.extend(_parse_bpmn(by_kind["bpmn"], max_bytes, bindings))
    for name, data in by_kind.get("casetype", {}).items():
        ct = parse_case_type(name, data)
        _check_scoring_model(name, ct)
        parsed.append(Parsed("casetype", ct.type, ct.type, name, data.decode("utf-8"), {}))
    for name, data in by_kind.get("rules", {}).items():
        parsed.append(_parse_rules(name, data))
    for name, data in by_kind.get("connector", {}).items():
        spec = parse_connector(name, data)
        parsed.append(Parsed("connector", spec.name, spec.description or None, name,
                             data.decode("utf-8"), {"method": spec.method,
                                                    "env": sorted(spec.env_names)}))
    for name, data in {**by_kind.get("bpmn", {}), **by_kind.get("dmn", {})}.items():
        _check_sizes(name, data)
    for p in parsed:
        if len(p.key) > MAX_ID_CHARS or len(p.name or "") > MAX_NAME_CHARS:
            raise DefinitionInvalid(f"{p.file}: {p.kind} {p.key[:80]!r}: the key is limited to "
                                    f"{MAX_ID_CHARS} characters and the name to "
                                    f"{MAX_NAME_CHARS}", file=p.file, element=p.key[:200])
    keys = [(p.kind, p.key) for p in parsed]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        kind, key = sorted(dup)[0]
        raise DefinitionInvalid(f"{kind} {key!r} is defined twice in this deployment",
                                element=key)
    _check_decision_owners(parsed)
    _check_references(parsed)
    for p in parsed:
        if p.kind == "bpmn":
            _check_bindings(p, parsed)
    return parsed


def _check_utf8(name: str, data: bytes) -> None:
    # Sources are stored and shown as text; another encoding would fail after validation.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionInvalid(f"{name}: the file must be UTF-8 encoded ({exc.reason} at byte "
                                f"{exc.start})", file=name) from exc


def _check_sizes(name: str, data: bytes) -> None:
    """Refuse ids and names longer than the columns the engine projects them into."""
    # Runs after the engine or DMN parser accepted the file: DOCTYPEs are already refused.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DefinitionInvalid(f"{name}: not well-formed XML: {exc.msg}", file=name,
                                line=exc.lineno) from exc
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        element_id, label = node.get("id") or "", node.get("name") or ""
        if len(element_id) > MAX_ID_CHARS or len(label) > MAX_NAME_CHARS:
            raise DefinitionInvalid(f"{name}: element {element_id[:80]!r}: ids are limited to "
                                    f"{MAX_ID_CHARS} characters and names to {MAX_NAME_CHARS}",
                                    file=name, element=element_id[:MAX_ID_CHARS] or None,
                                    line=node.sourceline)


def _check_scoring_model(name: str, ct) -> None:
    if not ct.scoring:
        return
    if ct.scoring["model"] not in SPECS:
        raise DefinitionInvalid(f"{name}: scoring model {ct.scoring['model']!r} is not one of "
                                f"{', '.join(sorted(SPECS))}", file=name, element="scoring")


def _check_decision_owners(parsed: list[Parsed]) -> None:
    """A decision id belongs to one DMN definition: a second file defining it (a copy of a
    table under another file name, say) would take over whatever calls it, silently."""
    redeployed = {p.key for p in parsed if p.kind == "dmn"}
    owners = {d["id"]: (row.key, row.file) for row in definitions.latest_all("dmn")
              if row.key not in redeployed for d in row.meta.get("decisions", [])}
    for p in parsed:
        if p.kind != "dmn":
            continue
        for d in p.meta["decisions"]:
            owner = owners.setdefault(d["id"], (p.key, p.file))
            if owner[0] != p.key:
                raise DefinitionInvalid(
                    f"{p.file}: decision {d['id']!r} is already defined by {owner[1]} "
                    f"(definition {owner[0]!r}); deploy a new version of that file, or give "
                    "this decision another id", file=p.file, element=d["id"])


def _check_references(parsed: list[Parsed]) -> None:
    new_decisions = {ref for p in parsed if p.kind == "dmn"
                     for d in p.meta["decisions"] for ref in (d["id"], d["name"]) if ref}
    new_processes = {p.key for p in parsed if p.kind == "bpmn"}
    deployed_decisions = {ref for row in definitions.latest_all("dmn")
                          for d in row.meta.get("decisions", []) for ref in (d["id"], d["name"])}
    http_connectors = {p.key for p in parsed if p.kind == "connector"} | deployed_connectors.names()
    for p in parsed:
        if p.kind != "bpmn":
            continue
        for ref in p.meta["decision_refs"]:
            if ref not in new_decisions and ref not in deployed_decisions:
                raise DefinitionInvalid(f"{p.file}: process {p.key!r} calls decision {ref!r}, "
                                        "which is not deployed", file=p.file, element=ref)
        for ref in p.meta["called_processes"]:
            if ref not in new_processes and definitions.latest("bpmn", ref) is None:
                raise DefinitionInvalid(f"{p.file}: process {p.key!r} calls process {ref!r}, "
                                        "which is not deployed", file=p.file, element=ref)
        external = set(p.meta.get("external_topics", ()))
        for name in p.meta["connectors"]:
            # An external task's topic no connector here handles waits for external workers
            # (/engine-rest/external-task); only a connector task needs its connector.
            if name in external:
                continue
            if name not in connector_registry and name not in http_connectors:
                raise DefinitionInvalid(f"{p.file}: process {p.key!r} uses connector {name!r}, "
                                        "which is neither built in nor deployed as a "
                                        f"{name}{CONNECTOR_SUFFIX} file", file=p.file,
                                        element=name)


def _versioning(definition) -> dict:
    """What version bindings need of a process: its task bindings and its version tag."""
    return {"decision_bindings": list(definition.decision_bindings),
            "call_bindings": list(definition.call_bindings),
            "version_tag": definition.version_tag}


def _check_bindings(p: Parsed, parsed: list[Parsed]) -> None:
    """A binding to a version or a version tag names one that exists: deployed, or in this
    deployment (its next version)."""
    for kind, refs in (("dmn", p.meta.get("decision_bindings", [])),
                       ("bpmn", p.meta.get("call_bindings", []))):
        for ref in refs:
            binding = ref["binding"]
            if binding["type"] not in ("version", "versionTag"):
                continue
            if _binding_found(kind, ref["ref"], binding, parsed):
                continue
            what = (f"version {binding['version']}" if binding["type"] == "version"
                    else f"version tag {binding['version_tag']!r}")
            raise DefinitionInvalid(
                f"{p.file}: {ref['element']} is bound to {what} of "
                f"{'decision' if kind == 'dmn' else 'process'} {ref['ref']!r}, which is not "
                "deployed", file=p.file, element=ref["element"])


def _binding_found(kind: str, ref: str, binding: dict, parsed: list[Parsed]) -> bool:
    if kind == "dmn":
        owner = next((q for q in parsed if q.kind == "dmn" and ref in
                      {d["id"] for d in q.meta["decisions"]}), None)
        try:
            key = owner.key if owner else definitions.decision_definition(ref).key
        except NotFound:
            return False
    else:
        owner = next((q for q in parsed if q.kind == "bpmn" and q.key == ref), None)
        key = ref
    if owner is not None:       # this deployment adds the next version (if it changed)
        current = definitions.latest_stored(kind, key)
        mine = owner.meta if kind == "bpmn" else next(
            (d for d in owner.meta["decisions"] if d["id"] == ref), {})
        if binding["type"] == "version" and binding["version"] == (
                current.version + 1 if current else 1):
            return True
        if binding["type"] == "versionTag" and mine.get("version_tag") == binding["version_tag"]:
            return True
    try:
        definitions.bound(kind, key, binding, decision=ref if kind == "dmn" else None)
    except NotFound:
        return False
    return True


def content_files(dirs) -> dict[str, bytes]:
    """All deployable files in the content folders (bpmn/, dmn/, rules/)."""
    files = {}
    for folder in dirs:
        path = Path(folder)
        if not path.is_dir():
            continue
        for item in sorted(path.iterdir()):
            if item.is_file():
                try:
                    kind_of(item.name)
                except ValidationFailed:
                    continue
                files[item.name] = item.read_bytes()
    return files
