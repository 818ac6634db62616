"""Browser pages, served by the same app under ``/ui`` (and the API reference at ``/api/docs``).

    blueprint   the blueprint, security headers, rendering a page with what the person may do
    signin      the sign-in form, the session cookie and its CSRF token, sign-out
    pages       inbox, task, case view, incidents, dashboard, definitions and the workbench
    docs        /api/docs: the OpenAPI document rendered on the server

Every asset is served from ``/web/static`` (no CDN: the machines have no internet access): our
own scripts and styles in ``static/ui``, and the bpmn-js, dmn-js and properties-panel bundles in
``static/vendor``, built once by ``web/build.sh`` from pinned npm packages and committed with
their licences.
"""
from __future__ import annotations

from . import docs, pages, signin  # noqa: F401  (each module adds its routes to the blueprint)
from .blueprint import bp


def init_app(app) -> None:
    app.register_blueprint(bp)
