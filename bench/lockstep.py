"""Two trees of Omniflow side by side, in-process, one case each in turn: A/B on a noisy machine.

On a machine whose speed drifts from minute to minute (other guests, CPU steal), two runs made
one after the other compare the minutes, not the trees. This starts one child process per
tree (each imports that tree's ``service``), deploys the shipped content into its own fresh
database, warms up, then asks the children for one case at a time, alternately (ABBA order):
a submit of the `bench/intake_mix.py` mix and, when the case lands in the customer-service
inbox, the agent's completion. Drift hits both alike.

    python bench/lockstep.py OLD_TREE NEW_TREE [--cases 400]
    python bench/lockstep.py OLD_TREE NEW_TREE --postgres postgresql://postgres@127.0.0.1:5432

With ``--postgres`` each tree gets its own database on that server (``lockstep_a``,
``lockstep_b``; dropped and created). Prints p50 and mean per tree, milliseconds; nothing is
asserted. A tree is a checkout (``git worktree add /tmp/old <commit>``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r'''
import importlib.util, json, os, sys, tempfile, time
root, url = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
spec = importlib.util.spec_from_file_location("intake_mix", root + "/bench/intake_mix.py")
mix_module = importlib.util.module_from_spec(spec); spec.loader.exec_module(mix_module)
from service import store
from service.app import create_app
from service.config import Config
from service.policy import add_user, authenticate
from service.usecases import system
from service.usecases import tasks as inbox
from service.usecases.cases import submit
from service.usecases.deployments import deploy_shipped_content
if url.startswith("postgres"):
    store.bind(url); store.database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    store.database.close()
config = Config(database_url=url, run_worker=False)
system.open_store(config)
app = create_app(config)
with app.app_context():
    deploy_shipped_content(config)
    oms = authenticate(add_user("oms", ["oms"], client=True)[1])
    agent = authenticate(add_user("agent", ["customer_service"], {"refund": 100})[1])
    cases = mix_module.mix()
    def one():
        data = next(cases)
        t0 = time.perf_counter()
        _, case = submit(oms, {"type": "order_exception", "data": data}, config=config)
        took = [time.perf_counter() - t0, None]
        task = next((t for t in case.get("tasks", [])
                     if "customer_service" in t.get("candidate_groups", [])), None)
        if task is not None:
            t0 = time.perf_counter()
            inbox.complete(agent, task["id"], {"resolution": "reship"}, config=config)
            took[1] = time.perf_counter() - t0
        return took
    for _ in range(30):
        one()
    print("READY", flush=True)
    for _ in sys.stdin:
        print(json.dumps(one()), flush=True)
'''


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _database(base: str | None, label: str, tmp: str) -> str:
    if base is None:
        return f"sqlite:///{tmp}/{label}.db"
    name = f"lockstep_{label}"
    admin = base.rstrip("/") + "/postgres"
    subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}",
                    "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return base.rstrip("/") + "/" + name


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs=2)
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--postgres", default=None,
                        help="server URL without a database name")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        children = []
        for label, tree in zip("ab", args.trees):
            url = _database(args.postgres, label, tmp)
            root = str(Path(tree).resolve())
            children.append(subprocess.Popen(
                [sys.executable, "-c", CHILD, root, url], cwd=root, text=True, bufsize=1,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env={**os.environ, "OMNIFLOW_WORKER": "false"}))
        for child in children:
            while (line := child.stdout.readline()) and not line.startswith("READY"):
                pass
            if not line:
                raise SystemExit(f"a child did not start (exit code {child.wait()})")
        times = [([], []) for _ in children]
        for n in range(args.cases):
            order = [0, 1] if n % 4 in (0, 3) else [1, 0]            # ABBA
            for i in order:
                children[i].stdin.write("go\n")
                submit, complete = json.loads(children[i].stdout.readline())
                times[i][0].append(submit)
                if complete is not None:
                    times[i][1].append(complete)
        for child in children:
            child.stdin.close()
            child.wait()
    for tree, (submits, completes) in zip(args.trees, times):
        ms = lambda v: round(v * 1000, 2)  # noqa: E731
        print(f"{tree}: submit p50 {ms(_pct(submits, 50))} mean {ms(statistics.mean(submits))}"
              f" | complete p50 {ms(_pct(completes, 50))} mean "
              f"{ms(statistics.mean(completes))} ({len(completes)} of {len(submits)})")


if __name__ == "__main__":
    main()
