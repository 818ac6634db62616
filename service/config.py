"""Settings, read once from the environment into a frozen dataclass.

No other module reads ``os.environ``; tests build a :class:`Config` directly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    database_url: str = f"sqlite:///{ROOT / 'omniflow.db'}"
    content_dirs: tuple[str, ...] = (str(ROOT / "bpmn"), str(ROOT / "dmn"), str(ROOT / "rules"))
    models_dir: str = str(ROOT / "scoring" / "models")
    max_definition_bytes: int = 2 * 1024 * 1024
    max_request_bytes: int = 8 * 1024 * 1024
    script_cpu_seconds: float = 1.0
    run_worker: bool = True          # the embedded default runs the worker in-process
    worker_interval: float = 0.2
    deploy_on_start: bool = True
    testing: bool = False
    # The audit key is kept out of the database (service/audit/keys.py): in production put it
    # on another volume or inject it; the embedded default creates it on first start.
    audit_key_file: str = str(ROOT / "data" / "audit.key")
    audit_checkpoint_file: str = str(ROOT / "data" / "audit-checkpoints.jsonl")
    audit_checkpoint_seconds: float = 60.0
    extra: dict = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes) -> "Config":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ=None) -> "Config":
        env = os.environ if environ is None else environ
        kwargs = {}
        if env.get("DATABASE_URL"):
            kwargs["database_url"] = env["DATABASE_URL"]
        if env.get("OMNIFLOW_MAX_DEFINITION_BYTES"):
            kwargs["max_definition_bytes"] = int(env["OMNIFLOW_MAX_DEFINITION_BYTES"])
        if env.get("OMNIFLOW_MAX_REQUEST_BYTES"):
            kwargs["max_request_bytes"] = int(env["OMNIFLOW_MAX_REQUEST_BYTES"])
        if env.get("OMNIFLOW_SCRIPT_CPU_SECONDS"):
            kwargs["script_cpu_seconds"] = float(env["OMNIFLOW_SCRIPT_CPU_SECONDS"])
        if env.get("OMNIFLOW_AUDIT_KEY_FILE"):
            kwargs["audit_key_file"] = env["OMNIFLOW_AUDIT_KEY_FILE"]
        if env.get("OMNIFLOW_AUDIT_CHECKPOINTS"):
            kwargs["audit_checkpoint_file"] = env["OMNIFLOW_AUDIT_CHECKPOINTS"]
        if env.get("OMNIFLOW_MODELS_DIR"):
            kwargs["models_dir"] = env["OMNIFLOW_MODELS_DIR"]
        if env.get("OMNIFLOW_WORKER") is not None and env.get("OMNIFLOW_WORKER") != "":
            kwargs["run_worker"] = env["OMNIFLOW_WORKER"].lower() in ("1", "true", "yes")
        return cls(**kwargs)
