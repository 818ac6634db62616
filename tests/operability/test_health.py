"""/healthz and /readyz: liveness without the database, readiness naming each check."""
import datetime as dt

from service import store
from service.store import SchemaVersion, WorkerHeartbeat, utcnow
from service.worker import Worker


def test_liveness_and_readiness_name_each_check(app, client, config):
    assert client.get("/healthz").get_json() == {"status": "ok"}

    # No worker has run yet: not ready, and the answer says which check failed.
    answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert set(checks) == {"database", "migrations", "worker", "models"}
    assert checks["database"]["ok"] and checks["migrations"]["ok"] and checks["models"]["ok"]
    assert checks["models"]["loaded"]          # the shipped models, loaded
    assert not checks["worker"]["ok"] and "worker" in checks["worker"]["detail"]

    # A worker pass writes its heartbeat: ready.
    worker = Worker(config)
    worker.run_once()
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "ready"

    # A heartbeat older than the limit is a stale worker.
    WorkerHeartbeat.update(seen_at=utcnow() - dt.timedelta(minutes=5)).execute()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["worker"]["last_seen_seconds_ago"] >= 299

    # A schema newer than this code (or older) is not ready either.
    WorkerHeartbeat.update(seen_at=utcnow()).execute()
    SchemaVersion.create(version=999, name="from the future")
    try:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.get_json()["checks"]["migrations"] == {
            "ok": False, "version": 999, "expected": checks["migrations"]["expected"]}
    finally:
        SchemaVersion.delete().where(SchemaVersion.version == 999).execute()


def test_probes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"200"} <= set(paths["/healthz"]["get"]["responses"])
    assert {"200", "503"} <= set(paths["/readyz"]["get"]["responses"])


def test_readiness_answers_503_when_the_database_is_unreachable(app, client, config):
    store.bind("postgresql://nobody@127.0.0.1:1/none")
    try:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        checks = answer.get_json()["checks"]
        assert not checks["database"]["ok"] and checks["database"]["detail"]
        assert checks["worker"] == {"ok": False, "detail": "the database is not reachable"}
        assert client.get("/healthz").status_code == 200
    finally:
        store.bind(config.database_url)
