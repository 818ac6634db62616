"""Accounts: a registry refuses typos, users are disabled, enabled, given new tokens, groups
and limits, from the command line and by admins over the API; tokens may expire; every
change is audited."""
import datetime as dt

import pytest
from click.testing import CliRunner

from service.cli import cli
from service.store import ApiToken, AuditEvent, User, utcnow


@pytest.fixture
def run(config, db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("OMNIFLOW_AUDIT_KEY_FILE", config.audit_key_file)
    monkeypatch.setenv("OMNIFLOW_AUDIT_CHECKPOINTS", config.audit_checkpoint_file)

    def invoke(*args):
        return CliRunner().invoke(cli, list(args))
    return invoke


def _token(output):
    return output.strip().splitlines()[-1].rsplit(" ", 1)[-1]


def _kinds():
    return [e.kind for e in AuditEvent.select().order_by(AuditEvent.seq)]


def test_command_line_refuses_typos_and_manages_a_user(run, app, client):
    typo = run("users", "add", "ana", "--groups", "custmer_service")
    assert typo.exit_code != 0
    assert "unknown group 'custmer_service'" in typo.output
    assert "did you mean 'customer_service'" in typo.output and "finance" in typo.output
    typo = run("users", "add", "ana", "--groups", "customer_service", "--authority", "refnd=100")
    assert typo.exit_code != 0 and "unknown authority key 'refnd'" in typo.output
    assert "refund" in typo.output
    assert not User.select().where(User.name == "ana").exists()

    added = run("users", "add", "ana", "--groups", "customer_service", "--authority",
                "refund=100")
    assert added.exit_code == 0, added.output
    token = _token(added.output)
    me = lambda t: client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {t}"})
    assert me(token).status_code == 200

    assert run("users", "disable", "ana").exit_code == 0
    assert me(token).status_code == 401
    assert "disabled" in run("users", "list").output
    assert run("users", "enable", "ana").exit_code == 0
    assert me(token).status_code == 200

    rotated = run("users", "rotate-token", "ana", "--expires-in-days", "30")
    assert rotated.exit_code == 0, rotated.output
    new = _token(rotated.output)
    assert me(token).status_code == 401 and me(new).status_code == 200
    assert "token_expires_at=" in rotated.output

    assert run("users", "set-groups", "ana", "customer_service,cs_supervisor").exit_code == 0
    assert run("users", "set-authority", "ana", "refund=500").exit_code == 0
    assert me(new).get_json()["groups"] == ["cs_supervisor", "customer_service"]
    assert me(new).get_json()["authority"] == {"refund": 500}
    bad = run("users", "set-groups", "ana", "finanse")
    assert bad.exit_code != 0 and "did you mean 'finance'" in bad.output
    assert run("users", "disable", "nobody").exit_code != 0

    kinds = _kinds()
    for kind in ("user.created", "user.disabled", "user.enabled", "user.token_rotated",
                 "user.groups_set", "user.authority_set"):
        assert kind in kinds, kinds
    rotation = AuditEvent.get(AuditEvent.kind == "user.token_rotated")
    assert rotation.actor == "cli" and new not in str(rotation.detail)
    groups = AuditEvent.get(AuditEvent.kind == "user.groups_set").detail
    assert groups == {"user": "ana", "before": ["customer_service"],
                      "after": ["cs_supervisor", "customer_service"]}


def test_admins_manage_users_over_the_api_and_tokens_expire(users, app):
    admin = users.make("root", ["admin"])
    agent = users.make("agent", ["customer_service"])

    refused = admin.post("/api/v1/users", json={"name": "bo", "groups": ["custmer_service"]})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["field"] == "groups" and "customer_service" in body["known"]
    assert agent.post("/api/v1/users", json={"name": "bo"}).status_code == 403

    created = admin.post("/api/v1/users", json={"name": "bo", "groups": ["finance"],
                                                "authority": {"refund": 50},
                                                "expires_in_days": 1})
    assert created.status_code == 201, created.get_json()
    token = created.get_json()["token"]
    bo = lambda: agent.client.get("/api/v1/users/me",
                                  headers={"Authorization": f"Bearer {token}"})
    assert bo().status_code == 200 and created.get_json()["token_expires_at"]

    # The token expires: 401 in words.
    ApiToken.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(
        ApiToken.user == User.get(User.name == "bo")).execute()
    assert bo().status_code == 401 and "expired" in bo().get_json()["detail"]

    rotated = admin.post("/api/v1/users/bo/rotate-token", json={})
    assert rotated.status_code == 200 and rotated.get_json()["token_expires_at"] is None
    token = rotated.get_json()["token"]
    assert bo().status_code == 200

    assert admin.post("/api/v1/users/bo/disable").get_json()["active"] is False
    assert bo().status_code == 401
    assert admin.post("/api/v1/users/bo/enable").get_json()["active"] is True
    put = lambda url, body: admin.client.put(url, json=body, headers=admin.headers)
    assert put("/api/v1/users/bo/groups", {"groups": ["finance", "auditor"]}).status_code == 200
    wrong = put("/api/v1/users/bo/authority", {"authority": {"refnd": 1}})
    assert wrong.status_code == 422 and "refund" in wrong.get_json()["detail"]
    assert put("/api/v1/users/bo/authority", {"authority": {"write_off": 10}}).get_json()[
        "authority"] == {"write_off": 10}
    assert agent.post("/api/v1/users/bo/disable").status_code == 403
    assert admin.post("/api/v1/users/ghost/disable").status_code == 404
    assert admin.post("/api/v1/users/root/disable").status_code == 422    # not yourself
    registry = agent.get("/api/v1/users/registry").get_json()
    assert "customer_service" in registry["groups"] and "refund" in registry["authority_keys"]

    events = AuditEvent.select().where(AuditEvent.kind.startswith("user."))
    assert {(e.kind, e.actor) for e in events} >= {
        ("user.created", "root"), ("user.token_rotated", "root"), ("user.disabled", "root"),
        ("user.enabled", "root"), ("user.groups_set", "root"), ("user.authority_set", "root")}
