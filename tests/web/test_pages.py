"""The pages under /ui, through the Flask client: sign-in with a password into a session cookie
(HttpOnly, SameSite, CSRF-protected), pages per role, and assets served from this host only."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from service.policy.passwords import set_password
from service.store import User

STATIC = Path(__file__).resolve().parents[2] / "service" / "web" / "static"
OUR_SCRIPTS = sorted(p.name for p in (STATIC / "ui").glob("*.js"))
EXTERNAL = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", re.IGNORECASE)
PASSWORD = "correct horse battery"


def person(users, name, groups, authority=None):
    actor = users.make(name, groups, authority)
    set_password(User.get(User.name == name), PASSWORD)
    return actor


def sign_in(client, name, password=PASSWORD, next_="/ui/inbox"):
    form = client.get(f"/ui/sign-in?next={next_}")
    token = re.search(r'name="signin_token" value="([^"]+)"', form.get_data(as_text=True)).group(1)
    return client.post("/ui/sign-in", data={"name": name, "password": password,
                                            "signin_token": token, "next": next_})


def csrf_of(client, path="/ui/inbox"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_pages_send_strangers_to_the_sign_in_form(client, db):
    response = client.get("/ui/cases/7")
    assert response.status_code == 302
    assert response.headers["Location"] == "/ui/sign-in?next=/ui/cases/7"
    form = client.get("/ui/sign-in")
    html = form.get_data(as_text=True)
    assert 'for="name"' in html and 'for="password"' in html
    assert "default-src 'none'" in form.headers["Content-Security-Policy"]


def test_the_old_inbox_address_leads_to_the_new_inbox(client, db):
    response = client.get("/inbox")
    assert response.status_code == 301 and response.headers["Location"] == "/ui/inbox"


def test_sign_in_sets_a_strict_http_only_session_cookie(client, users):
    person(users, "agent", ["customer_service"])
    response = sign_in(client, "agent")
    assert response.status_code == 303 and response.headers["Location"] == "/ui/inbox"
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("omniflow_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    page = client.get("/ui/inbox")
    assert page.status_code == 200 and "agent" in page.get_data(as_text=True)
    assert client.get("/api/v1/users/me").get_json()["name"] == "agent"


def test_a_wrong_password_or_name_is_refused_in_words(client, users):
    person(users, "agent", ["customer_service"])
    for name, password in [("agent", "wrong password!"), ("nobody", PASSWORD)]:
        response = sign_in(client, name, password)
        assert response.status_code == 401
        assert "That name and password do not match." in response.get_data(as_text=True)
    assert client.get("/ui/inbox").status_code == 302


def test_sign_in_without_its_form_token_is_refused(client, users):
    person(users, "agent", ["customer_service"])
    response = client.post("/ui/sign-in", data={"name": "agent", "password": PASSWORD,
                                                "signin_token": "forged"})
    assert response.status_code == 400
    assert client.get("/ui/inbox").status_code == 302


def test_machine_clients_cannot_sign_in_with_a_password(client, users):
    users.make("oms", ["oms"], client=True)
    User.update(password_hash=None).execute()
    assert sign_in(client, "oms", "anything at all").status_code == 401


def test_changes_through_the_session_need_the_csrf_token(client, users, deployed):
    person(users, "analyst", ["analyst"])
    sign_in(client, "analyst")
    source = (Path(__file__).resolve().parents[2] / "dmn" / "exception_routing.dmn").read_bytes()

    def files():
        return {"files": (io.BytesIO(source), "exception_routing.dmn")}
    refused = client.post("/api/v1/validations", data=files(), content_type="multipart/form-data")
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.get_json()["detail"]
    ok = client.post("/api/v1/validations", data=files(), content_type="multipart/form-data",
                     headers={"X-CSRF-Token": csrf_of(client)})
    assert ok.status_code == 200 and ok.get_json()["valid"] is True


def test_sign_out_ends_the_session(client, users):
    person(users, "agent", ["customer_service"])
    sign_in(client, "agent")
    token = csrf_of(client)
    assert client.post("/ui/sign-out", data={"csrf_token": token}).status_code == 303
    client.set_cookie("omniflow_session", "stale")      # a copy of the old cookie is no key
    assert client.get("/ui/inbox").status_code == 302
    assert client.get("/api/v1/users/me").status_code == 401


@pytest.mark.parametrize("groups, shown, hidden", [
    (["customer_service"], ["/ui/inbox", "/ui/incidents", "/ui/dashboard"], ["/ui/definitions"]),
    (["analyst"], ["/ui/definitions", "/ui/dashboard"], []),
    (["auditor"], ["/ui/inbox", "/ui/definitions"], []),
])
def test_navigation_offers_what_the_role_may_use(client, users, deployed, groups, shown, hidden):
    person(users, "someone", groups)
    sign_in(client, "someone")
    html = client.get("/ui/incidents").get_data(as_text=True)
    nav = html[html.index('<nav'):html.index('</nav>')]
    for link in shown:
        assert f'href="{link}"' in nav
    for link in hidden:
        assert f'href="{link}"' not in nav
        assert client.get(link).status_code == 403


def test_the_workbench_page_loads_the_modeler_and_the_editor_bundles(client, users, deployed):
    person(users, "analyst", ["analyst"])
    sign_in(client, "analyst")
    html = client.get("/ui/definitions/exception_routing").get_data(as_text=True)
    for asset in ("vendor/modeler.js", "vendor/dmn.js", "vendor/modeler.css", "vendor/dmn.css",
                  "ui/workbench.js"):
        assert asset in html


@pytest.mark.parametrize("path", [f"ui/{n}" for n in OUR_SCRIPTS] + ["ui/ui.css"])
def test_our_assets_reference_nothing_external(client, db, path):
    response = client.get(f"/web/static/{path}")
    text = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 200
    text = text.replace("http://www.w3.org/2000/svg", "")     # a namespace name, never fetched
    assert not EXTERNAL.search(text), EXTERNAL.search(text)


@pytest.mark.parametrize("name", ["modeler", "viewer", "dmn"])
def test_vendor_bundles_are_served_with_their_licences(client, db, name):
    for ext, kind in (("js", "javascript"), ("css", "text/css")):
        response = client.get(f"/web/static/vendor/{name}.{ext}")
        assert response.status_code == 200 and kind in response.content_type
        response.close()
    listing = (STATIC / "vendor" / "LICENSES" / "README.txt").read_text()
    for package in ("bpmn-js", "dmn-js", "bpmn-js-properties-panel", "camunda-bpmn-moddle",
                    "camunda-dmn-moddle"):
        assert f"\n{package} " in listing
        assert (STATIC / "vendor" / "LICENSES" / f"{package}.txt").exists()


def test_scripts_call_only_documented_operations(client, db):
    """Each ``api("METHOD", path)`` call in our scripts matches an operation of the OpenAPI
    document; a ``${...}`` segment stands for any one path segment."""
    spec = client.get("/api/v1/openapi.json").get_json()["paths"]
    calls = []
    for name in OUR_SCRIPTS:
        calls += re.findall(r'api\("([A-Z]+)", [`"]([^`"?]+)', (STATIC / "ui" / name).read_text())
    assert len(calls) >= 15
    undocumented = []
    for method, path in calls:
        pattern = re.compile("^/api/v1" + re.sub(r"\\\$\\\{[^}]*\\}", "[^/]+", re.escape(path)) + "$")
        if not any(pattern.match(p) and method.lower() in ops for p, ops in spec.items()):
            undocumented.append((method, path))
    assert undocumented == []        # the what-if replay (issue 14) included
