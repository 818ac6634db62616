"""/engine-rest tests: a real served instance (werkzeug's threaded server on a free port) for
the third-party clients, the Flask test client for the rest."""
from __future__ import annotations

import base64
import io
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from service import store

FIXTURES = Path(__file__).parent / "fixtures"


class Served:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/engine-rest"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served(app):
    """The application served over real HTTP for the duration of a test."""
    served = Served(app)
    served.thread.start()
    yield served
    served.stop()
    if store.is_postgres():
        # the server's threads returned their connections; this thread keeps its own
        store.database.connect(reuse_if_open=True)


def basic(actor) -> dict:
    raw = base64.b64encode(f"{actor.name}:{actor.token}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def multipart(**files):
    return {name: (io.BytesIO(body), name) for name, body in files.items()}


@pytest.fixture
def deploy(users, client):
    """Deploy files through Camunda's deployment/create (as the Modeler's deploy button)."""
    analyst = users.make("modeler", ["analyst"])

    def run(files: dict, name="from-modeler"):
        data = {"deployment-name": name, "deployment-source": "Camunda Modeler",
                "deploy-changed-only": "true"}
        for i, (file, body) in enumerate(files.items()):
            data[f"file{i}"] = (io.BytesIO(body), file)
        return client.post("/engine-rest/deployment/create", data=data,
                           headers=basic(analyst), content_type="multipart/form-data")
    return run


@pytest.fixture
def content(deploy):
    """The processes with external tasks: ``reship_order`` (Camunda 7 topic
    ``warehouse.reship``, an error boundary event for ``OUT_OF_STOCK``) and ``label_parcel``
    (Camunda 8 job type ``carrier.label``)."""
    files = {name: (FIXTURES / name).read_bytes()
             for name in ("reship_order.bpmn", "label_parcel.bpmn")}
    answer = deploy(files)
    assert answer.status_code == 200, answer.get_json()


@pytest.fixture
def oms(users):
    return users.make("oms", ["oms"], client=True)


def start(client, oms, key="reship_order", **variables):
    """Start a process through /engine-rest (the business key is the order id)."""
    body = {"variables": {k: {"value": v} for k, v in variables.items()},
            "businessKey": variables.get("order_id")}
    answer = client.post(f"/engine-rest/process-definition/key/{key}/start", json=body,
                         headers=oms.headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()
