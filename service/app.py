"""The Flask application factory. Nothing builds an app at import time.

Building an app binds the database and checks that its schema is current; it never migrates
(``server.py migrate``, ``serve`` and ``worker`` do, once, before serving).
"""
from __future__ import annotations

from flask import Flask, redirect, request
from flask_smorest import Api

from . import api, web
from .api import auth, contract, errors, observability
from .config import Config
from .usecases import system

UNCONNECTED = ("/healthz", "/readyz")


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=config.max_request_bytes,
        API_TITLE="Omniflow", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="v1/openapi.json",
        TESTING=config.testing, JSON_SORT_KEYS=False)
    app.extensions["omniflow"] = config
    app.json.sort_keys = False

    system.start_serving(config)

    observability.init_app(app)   # first: the request id and clock precede authentication
    auth.init_app(app)
    spec = Api(app, spec_kwargs={"info": {"description": "Omniflow: governed decisions for "
                                          "retail operations"},
                                 "extra_plugins": [contract.ContractPlugin()]})
    contract.document(spec.spec)   # the problem schema and the security schemes
    for blp in api.blueprints():
        spec.register_blueprint(blp)
    errors.init_app(app)   # after Api(), which installs its own HTTP error handler
    contract.init_app(app, spec)   # unknown query parameters: 400, after authentication
    web.init_app(app)

    @app.before_request
    def _connect():
        if request.path not in UNCONNECTED:   # probes answer (503) when the database does not
            system.connect()

    @app.teardown_appcontext
    def _release(exc):
        system.release()

    @app.get("/api/v1/health")
    def health():
        return system.health()

    @app.get("/")
    def index():
        return redirect("/ui/inbox")

    return app
