"""Logging for every command: one JSON object per line (default) or plain text.

A line carries the time, level, logger and message, every ``extra`` field the caller gave, and
the id of the request it was written under (``request_id``, see
:mod:`service.api.observability`). SpiffWorkflow's per-task "State changed" chatter is off
unless ``OMNIFLOW_ENGINE_LOG`` asks for it (``debug``/``info``): the engine events that matter
are logged by the unit of work from the audit trail (``omniflow.events``).
"""
from __future__ import annotations

import datetime as dt
import json
import logging

from ..api.observability import current_id
from ..config import Config

# The attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# "spiff.workflow" by name too: SpiffWorkflow 3.2.0 reads that logger's own level (not the
# effective one) and, while it is unset, lists every task of a workflow at each create and end.
ENGINE_LOGGERS = ("spiff", "spiff.workflow", "SpiffWorkflow", "omniflow.events.engine")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
                .isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name,
                "msg": record.getMessage()}
        rid = current_id()
        if rid is not None:
            line["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(config: Config) -> None:
    """Install the handler on the root logger, unless the host already did (as
    ``logging.basicConfig`` would: a test runner's capture stays); set the engine's level."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        if config.log_format == "text":
            handler.setFormatter(logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s"))
        else:
            handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(config.log_level.upper())
    engine_level = {"off": logging.WARNING, "info": logging.INFO,
                    "debug": logging.DEBUG}.get(config.engine_log, logging.WARNING)
    for name in ENGINE_LOGGERS:
        logging.getLogger(name).setLevel(engine_level)


def gunicorn_config(config: Config) -> dict:
    """gunicorn's ``logconfig_dict``: its own lines ("Booting worker", a worker timeout) in
    the same format as ours, on stderr; its access log off (``omniflow.access`` writes one
    line per request, with the request id and the user)."""
    formatter = ({"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
                 if config.log_format == "text" else {"()": JsonFormatter})
    stream = {"class": "logging.StreamHandler", "formatter": "omniflow",
              "stream": "ext://sys.stderr"}
    return {"version": 1, "disable_existing_loggers": False,
            "root": {"level": config.log_level.upper(), "handlers": ["console"]},
            "loggers": {
                "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True,
                                   "qualname": "gunicorn.error"},
                "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False,
                                    "qualname": "gunicorn.access"}},
            "handlers": {"console": stream, "error_console": dict(stream)},
            "formatters": {"omniflow": formatter}}


__all__ = ["JsonFormatter", "configure", "gunicorn_config"]
