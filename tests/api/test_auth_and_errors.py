"""Authentication, problem+json and the OpenAPI document."""


def _is_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["type"].startswith("/problems/")
    return body


def test_missing_and_bad_tokens_are_401(client):
    _is_problem(client.get("/api/v1/cases"), 401)
    _is_problem(client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"}), 401)


def test_token_is_stored_hashed(users):
    from service.store import ApiToken
    ana = users.make("ana", ["customer_service"])
    stored = [t.token_hash for t in ApiToken.select()]
    assert ana.token not in stored and len(stored[0]) == 64


def test_me(users):
    ana = users.make("ana", ["customer_service"], {"refund": 100})
    body = ana.get("/api/v1/users/me").get_json()
    assert body == {"name": "ana", "groups": ["customer_service"], "authority": {"refund": 100},
                    "client": False}


def test_unknown_route_is_problem_json(users):
    ana = users.make("ana")
    _is_problem(ana.get("/api/v1/nothing-here"), 404)


def test_schema_errors_name_the_field(users):
    oms = users.make("oms", ["oms"], client=True)
    body = _is_problem(oms.post("/api/v1/cases", json={"data": {}}), 422)
    assert body["field"] == "type"


def test_non_json_body_is_4xx(users):
    oms = users.make("oms", ["oms"], client=True)
    response = oms.post("/api/v1/cases", data="not json", headers={"Content-Type": "text/plain"})
    assert 400 <= response.status_code < 500


def test_body_size_limit(app, users):
    oms = users.make("oms", ["oms"], client=True)
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    _is_problem(oms.post("/api/v1/cases", data=big, headers={"Content-Type": "application/json"}),
                413)


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["info"]["title"] == "Omniflow"
    for path in ("/api/v1/cases", "/api/v1/tasks/{task_id}/complete", "/api/v1/deployments",
                 "/api/v1/audit/verify"):
        assert path in doc["paths"]


def test_users_admin_only(users):
    ana = users.make("ana", ["customer_service"])
    admin = users.make("root", ["admin"])
    _is_problem(ana.post("/api/v1/users", json={"name": "x"}), 403)
    created = admin.post("/api/v1/users", json={"name": "bob", "groups": ["finance"],
                                                "authority": {"refund": 9000}})
    assert created.status_code == 201 and created.get_json()["token"].startswith("of_")


def test_docs_page_renders_offline(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/tasks/{task_id}/complete" in html and "cdn" not in html.lower()
