"""Interoperability benchmark: the public BPMN corpus through the real HTTP API, as a new user.

For every BPMN file of ``../shared/interop-corpus`` (read in place, never copied): deploy it with
the DMN files and the called processes it needs (``POST /api/v1/deployments``), start a case of
each executable process (``POST /api/v1/cases``), and drive it as a tester would: complete every
open task with plausible data from its form (``POST /api/v1/tasks/{id}/complete``), answer the
messages it waits for (``POST /api/v1/messages``, values from the timeline), until it ends or
nothing more can be done through the API. A process that stops because a variable is missing
(``cannot resolve identifier 'x'``) is started again with that variable (a tester reading the
incident), up to ``RETRIES`` times.

Only ``/api/v1`` is used (the first admin is created with ``server.py users add``), so the
figures hold whatever the service does below its API. Outcomes, one per file:

* ``refused``: the deploy answered 4xx naming the element (``element`` in the problem) or the
  file when it has no executable process;
* ``refused-unnamed``: a 4xx naming neither;
* ``ran to end``: every case of the file completed;
* ``waits``: a case waits for what the API cannot give a tester: a timer, an external worker, a
  signal, or a message the timeline does not describe;
* ``failed``: a case became an incident naming the element (data the tester could not guess, a
  connector that is not registered...);
* ``stalled``: a case is open with no task, no wait in its timeline and no incident;
* ``errors``: a 5xx or an answer the bench did not expect.

    python bench/interop.py                       # this tree, SQLite in a temp folder
    python bench/interop.py --root /work/baseline # the same files against another tree
    python bench/interop.py -v                    # one line per file
"""
from __future__ import annotations

import argparse
import collections
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
CORPUS = HERE.parent / "shared" / "interop-corpus"
RETRIES = 4
MAX_STEPS = 100
WAIT_KINDS = {"engine.timer_set": "timer", "engine.external_task_created": "external worker",
              "engine.message_waiting": "message", "engine.signal_waiting": "signal",
              "engine.condition_waiting": "condition"}


def _args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(HERE), help="the Omniflow tree to run (default: this one)")
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--only", help="substring of the file names to run")
    return parser.parse_args()


# -- what a file needs --------------------------------------------------------------------------

_PROCESS = re.compile(rb'<(?:\w+:)?process\b[^>]*\bid="([^"]+)"')
_CALLED = re.compile(rb'calledElement="([^"$#{}]+)"|processId="([^"=$#{}]+)"')
_DECISION = re.compile(rb'decisionRef="([^"$#{}]+)"|decisionId="([^"=$#{}]+)"|'
                       rb'calledDecisionId>([^<]+)<')
_DMN_DECISION = re.compile(rb'<(?:\w+:)?decision\b[^>]*\bid="([^"]+)"')


def _index(corpus: Path):
    processes, decisions = {}, {}
    for path in sorted((corpus / "bpmn").glob("*.bpmn")):
        for key in _PROCESS.findall(path.read_bytes()):
            processes.setdefault(key.decode(), path)
    for path in sorted((corpus / "dmn").glob("*.dmn")):
        for key in _DMN_DECISION.findall(path.read_bytes()):
            decisions.setdefault(key.decode(), path)
    return processes, decisions


def _needs(path: Path, processes: dict, decisions: dict) -> dict[str, bytes]:
    """The file, the BPMN files of the processes it calls (transitively) and the DMN files of
    the decisions they use, by the ids written in them."""
    files, todo = {}, [path]
    while todo:
        current = todo.pop()
        if current.name in files:
            continue
        content = current.read_bytes()
        files[current.name] = content
        for groups in _CALLED.findall(content):
            key = next((g for g in groups if g), b"").decode()
            if key in processes and processes[key].name not in files:
                todo.append(processes[key])
        for groups in _DECISION.findall(content):
            key = next((g for g in groups if g), b"").decode().strip()
            if key in decisions:
                files.setdefault(decisions[key].name, decisions[key].read_bytes())
    return files


# -- plausible data -----------------------------------------------------------------------------

def plausible(form: dict) -> dict:
    out = {}
    for name, prop in ((form or {}).get("properties") or {}).items():
        if prop.get("readOnly"):
            continue
        kind = prop.get("type")
        if prop.get("enum"):
            out[name] = prop["enum"][0]
        elif prop.get("examples"):
            out[name] = prop["examples"][0]
        elif "default" in prop:
            out[name] = prop["default"]
        elif kind == "boolean":
            out[name] = True
        elif kind in ("number", "integer"):
            out[name] = 1
        elif prop.get("format") == "date":
            out[name] = "2024-01-02"
        elif kind == "string":
            out[name] = "bench"
    return out


_MISSING = re.compile(r"cannot resolve identifier '([^']+)'|name '([^']+)' is not defined|"
                      r"no process variable has that name")


# -- the service ----------------------------------------------------------------------------------

class Service:
    def __init__(self, root: Path, tmp: str):
        sys.path.insert(0, str(root))
        from service.app import create_app
        from service.config import Config
        self.url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/interop.db"
        env = {**os.environ, "DATABASE_URL": self.url, "OMNIFLOW_WORKER": "false"}
        subprocess.run([sys.executable, "server.py", "migrate"], cwd=root, env=env,
                       capture_output=True, text=True)     # older trees migrate on start
        fields = dict(database_url=self.url, run_worker=False)
        try:
            config = Config(**fields, deploy_on_start=False)
        except TypeError:
            config = Config(**fields)
        self.app = create_app(config)
        self.client = self.app.test_client()
        out = subprocess.run([sys.executable, "server.py", "users", "add", "bench-admin",
                              "--groups", "admin"], cwd=root, env=env, capture_output=True,
                             text=True, check=True).stdout
        self.admin = {"Authorization": f"Bearer {out.strip().rsplit(' ', 1)[-1]}"}
        made = self.call("POST", "/api/v1/users", {"name": "bench-worker", "groups": ["admin"]},
                         headers=self.admin)
        self.worker = {"Authorization": f"Bearer {made['token']}"}
        self.users = {"bench-worker": self.worker}

    def as_user(self, name: str | None) -> dict:
        """The headers of user ``name`` (created on first use): a task assigned to someone is
        theirs to complete."""
        if not name:
            return self.worker
        if name not in self.users:
            made = self.call("POST", "/api/v1/users", {"name": name, "groups": []}, headers=self.admin)
            self.users[name] = {"Authorization": f"Bearer {made['token']}"}
        return self.users[name]

    def call(self, method: str, path: str, body=None, *, headers, files=None):
        if files is not None:
            data = {"files": [(io.BytesIO(content), name) for name, content in files.items()]}
            response = self.client.open(path, method=method, headers=headers, data=data,
                                        content_type="multipart/form-data")
        else:
            response = self.client.open(path, method=method, headers=headers, json=body)
        payload = response.get_json(silent=True)
        if response.status_code >= 500:
            raise ServerError(f"{method} {path}: {response.status_code} {payload or response.data[:200]}")
        if response.status_code >= 400:
            raise Refused(response.status_code, payload or {})
        return payload


class ServerError(RuntimeError):
    pass


class Refused(Exception):
    def __init__(self, status: int, problem: dict):
        super().__init__(problem.get("detail"))
        self.status, self.problem = status, problem


# -- driving one case ---------------------------------------------------------------------------

def _timeline(service: Service, case_id: int) -> list[dict]:
    answer = service.call("GET", f"/api/v1/cases/{case_id}/timeline", headers=service.admin)
    return answer.get("items", answer) if isinstance(answer, dict) else answer


def _incident(service: Service, case_id: int) -> dict | None:
    answer = service.call("GET", f"/api/v1/incidents?case={case_id}", headers=service.admin)
    items = answer.get("items", []) if isinstance(answer, dict) else answer
    return items[0] if items else None


def _open_tasks(service: Service, case_id: int) -> list[dict]:
    case = service.call("GET", f"/api/v1/cases/{case_id}", headers=service.admin)
    return [t for t in case.get("tasks", []) if t.get("status") in ("open", "claimed")], case


def drive(service: Service, key: str, data: dict) -> tuple[str, str]:
    """Run one case of ``key`` as far as the API allows: (outcome, detail)."""
    case = service.call("POST", "/api/v1/cases", {"type": key, "data": data}, headers=service.admin)
    case_id = case["id"]
    sent = set()
    for _ in range(MAX_STEPS):
        tasks, case = _open_tasks(service, case_id)
        if case["status"] in ("completed", "cancelled"):
            return "ran to end", ""
        incident = _incident(service, case_id) if case["status"] != "open" else None
        if incident is not None or case["status"] == "incident":
            detail = incident.get("message") if incident else case["status"]
            return "failed", f"{incident.get('element_id') if incident else ''}: {detail}"
        if tasks:
            task = service.call("GET", f"/api/v1/tasks/{tasks[0]['id']}", headers=service.worker)
            who = service.as_user(task.get("assignee") or task.get("claimed_by"))
            service.call("POST", f"/api/v1/tasks/{task['id']}/complete",
                         {"data": plausible(task.get("form") or {})}, headers=who)
            continue
        events = _timeline(service, case_id)
        waits = {}
        for event in events:
            kind = event.get("kind")
            if kind in WAIT_KINDS:
                waits[event.get("detail", {}).get("task_id") or event.get("id")] = event
            elif kind in ("engine.message_received", "engine.timer_fired", "engine.external_task_completed"):
                waits.pop(event.get("detail", {}).get("task_id"), None)
        messages = [e for e in waits.values() if e["kind"] == "engine.message_waiting"
                    and e.get("detail", {}).get("task_id") not in sent]
        if messages:
            detail = messages[0]["detail"]
            sent.add(detail.get("task_id"))
            try:
                service.call("POST", "/api/v1/messages",
                             {"name": detail["message"], "correlation": detail.get("correlation") or {},
                              "data": {}, "message_id": f"bench-{case_id}-{len(sent)}"},
                             headers=service.admin)
            except Refused as exc:
                return "waits", f"message {detail['message']!r} refused: {exc.problem.get('detail')}"
            continue
        if waits:
            kinds = sorted({WAIT_KINDS[e["kind"]] for e in waits.values()})
            return "waits", ", ".join(kinds)
        return "stalled", f"status {case['status']}, no task, no wait, no incident"
    return "waits", f"still going after {MAX_STEPS} steps"


def run_file(service: Service, path: Path, processes: dict, decisions: dict) -> tuple[str, str]:
    files = _needs(path, processes, decisions)
    try:
        answer = service.call("POST", "/api/v1/deployments", headers=service.admin, files=files)
    except Refused as exc:
        named = exc.problem.get("element") or "no executable" in (exc.problem.get("detail") or "")
        where = exc.problem.get("element") or exc.problem.get("file") or ""
        line = exc.problem.get("line")
        return ("refused" if named else "refused-unnamed",
                f"{where}{':' + str(line) if line else ''}: {exc.problem.get('detail')}")
    keys = [c["key"] for c in answer.get("created", []) + answer.get("unchanged", [])
            if c["kind"] == "bpmn" and c.get("file") == path.name]
    if not keys:
        keys = [k.decode() for k in _PROCESS.findall(path.read_bytes())]
    outcomes = []
    for key in keys:
        data: dict = {}
        for _ in range(RETRIES + 1):
            try:
                outcome, detail = drive(service, key, data)
            except Refused as exc:
                outcome, detail = "failed", f"{exc.status}: {exc.problem.get('detail')}"
            missing = _MISSING.search(detail) if outcome == "failed" else None
            name = next((g for g in missing.groups() if g), None) if missing else None
            if not name or name in data:
                break
            data[name] = "bench"                       # the tester supplies what was missing
        outcomes.append((outcome, f"{key}: {detail}" + (f" (start data {sorted(data)})" if data else "")))
    order = ["errors", "stalled", "failed", "waits", "ran to end"]
    outcome = min((o for o, _ in outcomes), key=order.index) if outcomes else "ran to end"
    return outcome, "; ".join(d for o, d in outcomes if o == outcome)


def main() -> None:
    args = _args()
    corpus = Path(args.corpus)
    processes, decisions = _index(corpus)
    paths = [p for p in sorted((corpus / "bpmn").glob("*.bpmn")) if not args.only or args.only in p.name]
    counts: collections.Counter = collections.Counter()
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(Path(args.root), tmp)
        with service.app.app_context():
            for path in paths:
                try:
                    outcome, detail = run_file(service, path, processes, decisions)
                except ServerError as exc:
                    outcome, detail = "errors", str(exc)
                counts[outcome] += 1
                rows.append((path.name, outcome, detail))
                if args.verbose:
                    print(f"{outcome:16} {path.name:70} {detail[:160]}")
    deployed = len(paths) - counts["refused"] - counts["refused-unnamed"]
    summary = {"files": len(paths), "deployed": deployed, "ran to end": counts["ran to end"],
               "refused naming the element": counts["refused"],
               "refused without naming it": counts["refused-unnamed"], "waits": counts["waits"],
               "failed (incident naming the element)": counts["failed"],
               "stalled": counts["stalled"], "errors": counts["errors"],
               "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
