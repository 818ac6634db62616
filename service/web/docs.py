"""``/api/docs`` renders the OpenAPI document on the server, so the reference works on machines
without internet access (Swagger UI would fetch its scripts from a CDN)."""
from __future__ import annotations

from flask import current_app, render_template

from .blueprint import bp

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


def _body_schema(op) -> str | None:
    content = op.get("requestBody", {}).get("content", {})
    for media in content.values():
        ref = media.get("schema", {}).get("$ref", "")
        return ref.rsplit("/", 1)[-1] or "object"
    return None
