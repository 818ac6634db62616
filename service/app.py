"""The Flask application factory. Nothing builds an app at import time."""
from __future__ import annotations

import logging

from flask import Flask, redirect
from flask_smorest import Api

from . import store
from .config import Config

log = logging.getLogger(__name__)


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

    store.bind(config.database_url)
    store.database.connect(reuse_if_open=True)
    store.migrate()
    from scoring.registry import sync_shipped
    sync_shipped(config.models_dir)   # register the shipped model versions (idempotent)

    from .api import auth, blueprints, errors
    auth.init_app(app)
    api = Api(app, spec_kwargs={"info": {"description": "Omniflow: governed decisions for "
                                         "retail operations"}})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blp in blueprints():
        api.register_blueprint(blp)
    errors.init_app(app)   # after Api(), which installs its own HTTP error handler
    from . import web
    web.init_app(app)

    @app.before_request
    def _connect():
        store.database.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc):
        # SQLite connections are per thread and cheap to keep; PostgreSQL ones go back to the pool.
        if store.is_postgres() and not store.database.is_closed():
            store.database.close()

    @app.get("/api/v1/health")
    def health():
        return {"status": "ok", "schema_version": store.current_version()}

    @app.get("/")
    def index():
        return redirect("/inbox")

    return app
