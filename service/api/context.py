"""What a view needs from the application: its config, and the clock tests may inject."""
from __future__ import annotations

from flask import current_app


def config():
    return current_app.extensions["omniflow"]


def clock_of(cfg) -> dict:
    """``{"clock": fn}`` when the config carries a test clock (``extra["clock"]``), else ``{}``,
    so use cases keep their default (the system clock)."""
    clock = (cfg.extra or {}).get("clock")
    return {"clock": clock} if clock is not None else {}
