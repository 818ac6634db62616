"""Browser pages. ``/api/docs`` renders the OpenAPI document on the server, so the reference
works on machines without internet access (Swagger UI would fetch its scripts from a CDN).
``/inbox`` is the approvers' page: static HTML, CSS and JavaScript that talk to ``/api/v1``
with the bearer token the user pastes; the page itself needs no session and holds no data."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/web/static")

# The inbox shows case data that outside systems wrote: allow only our own script and style,
# so a value that slipped into markup could still not run (the script uses textContent anyway).
INBOX_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
             "img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")

METHODS = ("get", "post", "put", "patch", "delete")


@bp.get("/api/docs")
def api_docs():
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    operations = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            operations.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "tag": (op.get("tags") or [""])[0],
                "parameters": op.get("parameters", []) + item.get("parameters", []),
                "body": _body_schema(op), "responses": sorted(op.get("responses", {}))})
    tags = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    return render_template("api_docs.html", spec=spec, operations=operations, tags=tags,
                           schemas=spec.get("components", {}).get("schemas", {}))


@bp.get("/inbox")
def inbox():
    response = current_app.make_response(render_template("inbox.html"))
    response.headers["Content-Security-Policy"] = INBOX_CSP
    return response


def _body_schema(op) -> str | None:
    content = op.get("requestBody", {}).get("content", {})
    for media in content.values():
        ref = media.get("schema", {}).get("$ref", "")
        return ref.rsplit("/", 1)[-1] or "object"
    return None


def init_app(app) -> None:
    app.register_blueprint(bp)
