"""The approvers' inbox page and its assets are served, and reference nothing outside the host
(the machines it runs on have no internet access)."""
from __future__ import annotations

import re

import pytest

ASSETS = [("/web/static/inbox.js", "javascript"), ("/web/static/inbox.css", "text/css")]
EXTERNAL = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


def test_inbox_page_is_served_without_a_token(client):
    response = client.get("/inbox")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for path, _ in ASSETS:
        assert path in html
    assert 'for="token"' in html          # the sign-in field has a label
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp


@pytest.mark.parametrize("path, kind", ASSETS)
def test_static_assets_are_served_with_their_content_type(client, path, kind):
    response = client.get(path)
    assert response.status_code == 200
    assert kind in response.content_type
    response.close()


@pytest.mark.parametrize("path", ["/inbox"] + [p for p, _ in ASSETS])
def test_page_and_assets_reference_nothing_external(client, path):
    response = client.get(path)
    text = response.get_data(as_text=True)
    response.close()
    assert "http://" not in text and "https://" not in text
    assert not EXTERNAL.search(text), EXTERNAL.search(text)


def test_script_calls_only_documented_operations(client):
    """Each ``api(METHOD, path)`` call in the script matches an operation of the OpenAPI
    document; a ``${...}`` segment stands for any one path segment."""
    response = client.get("/web/static/inbox.js")
    script = response.get_data(as_text=True)
    response.close()
    spec = client.get("/api/v1/openapi.json").get_json()["paths"]
    calls = re.findall(r'api\("([A-Z]+)", [`"]([^`"?]+)', script)
    assert len(calls) >= 5
    for method, path in calls:
        pattern = re.compile("^/api/v1" + re.sub(r"\\\$\\\{[^}]*\\}", "[^/]+", re.escape(path)) + "$")
        assert any(pattern.match(p) and method.lower() in ops for p, ops in spec.items()), (method, path)
