"""Settings, read once from the environment into a frozen dataclass.

No other module reads ``os.environ``; tests build a :class:`Config` directly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONNECTOR_ENV_PREFIX = "OMNIFLOW_CONNECTOR_"
# The models shipped in the package: read, never written (``train`` writes under the data dir).
SHIPPED_MODELS = ROOT / "scoring" / "models"


def data_layout(data_dir: Path) -> dict:
    """Where the service keeps what it writes, under one data directory: the SQLite file, the
    model artifacts ``train`` writes (read before the shipped ones), the audit key and its
    checkpoints."""
    return {"data_dir": str(data_dir),
            "database_url": f"sqlite:///{data_dir / 'omniflow.db'}",
            "models_dir": f"{data_dir / 'models'}{os.pathsep}{SHIPPED_MODELS}",
            "audit_key_file": str(data_dir / "audit.key"),
            "audit_checkpoint_file": str(data_dir / "audit-checkpoints.jsonl")}


_DEFAULTS = data_layout(ROOT / "data")


@dataclass(frozen=True)
class Config:
    data_dir: str = _DEFAULTS["data_dir"]
    database_url: str = _DEFAULTS["database_url"]
    content_dirs: tuple[str, ...] = (str(ROOT / "bpmn"), str(ROOT / "dmn"), str(ROOT / "rules"))
    # A search path (os.pathsep): new versions go to the first, all are read, the shipped last.
    models_dir: str = _DEFAULTS["models_dir"]
    max_definition_bytes: int = 2 * 1024 * 1024
    max_request_bytes: int = 8 * 1024 * 1024
    script_cpu_seconds: float = 1.0
    run_worker: bool = True          # the embedded default runs the worker in-process
    worker_interval: float = 0.2
    # Readiness: a worker writes its heartbeat every ``heartbeat_seconds``; none fresher than
    # ``worker_stale_seconds`` means nobody fires timers or delivers the outbox (/readyz: 503).
    heartbeat_seconds: float = 5.0
    worker_stale_seconds: float = 60.0
    deploy_on_start: bool = True
    signals_url: str = ""            # nats://host:4222: signals on NATS JetStream (service.signals)
    testing: bool = False
    # Connectors: the environment variables connector files may name (auth, base URLs) are
    # only those with this prefix, so an analyst's file can never read DATABASE_URL; literal
    # hosts a connector URL may name besides the ones those variables give.
    connector_env: dict = field(default_factory=dict)
    connector_hosts: tuple[str, ...] = ()
    # Notifications by email (SMTP); no host means email is off.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "omniflow@localhost"
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    # External tasks (/engine-rest): the longest long poll and lock a worker may ask for.
    max_long_poll_ms: int = 60_000
    max_lock_ms: int = 24 * 3600 * 1000
    # The audit key is kept out of the database (service/audit/keys.py): in production put it
    # on another volume or inject it; the embedded default creates it on first start.
    audit_key_file: str = _DEFAULTS["audit_key_file"]
    audit_checkpoint_file: str = _DEFAULTS["audit_checkpoint_file"]
    audit_checkpoint_seconds: float = 60.0
    # Logs: ``json`` (one object per line) or ``text``; the engine's per-task chatter is
    # ``off`` unless asked for (``info``, ``debug``).
    log_format: str = "json"
    log_level: str = "info"
    engine_log: str = "off"
    # Groups and authority actions users may be given besides the built-in registry
    # (service/policy/directory.py): OMNIFLOW_GROUPS, OMNIFLOW_AUTHORITY_KEYS.
    extra_groups: tuple[str, ...] = ()
    extra_authority_keys: tuple[str, ...] = ()
    # prometheus_client's multiprocess directory (``serve`` makes one when unset).
    metrics_dir: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes) -> "Config":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ=None) -> "Config":
        env = os.environ if environ is None else environ
        # Everything the service writes lives under one directory (default ./data, relative
        # to where it is started); each path can still be set on its own below.
        kwargs = data_layout(Path(env.get("OMNIFLOW_DATA_DIR") or "data").resolve())
        if env.get("OMNIFLOW_CONTENT_DIRS"):
            kwargs["content_dirs"] = tuple(
                d for d in env["OMNIFLOW_CONTENT_DIRS"].split(os.pathsep) if d)
        if env.get("DATABASE_URL"):
            kwargs["database_url"] = env["DATABASE_URL"]
        if env.get("OMNIFLOW_MAX_DEFINITION_BYTES"):
            kwargs["max_definition_bytes"] = int(env["OMNIFLOW_MAX_DEFINITION_BYTES"])
        if env.get("OMNIFLOW_MAX_REQUEST_BYTES"):
            kwargs["max_request_bytes"] = int(env["OMNIFLOW_MAX_REQUEST_BYTES"])
        if env.get("OMNIFLOW_SCRIPT_CPU_SECONDS"):
            kwargs["script_cpu_seconds"] = float(env["OMNIFLOW_SCRIPT_CPU_SECONDS"])
        if env.get("OMNIFLOW_SIGNALS_URL"):
            kwargs["signals_url"] = env["OMNIFLOW_SIGNALS_URL"]
        if env.get("OMNIFLOW_AUDIT_KEY_FILE"):
            kwargs["audit_key_file"] = env["OMNIFLOW_AUDIT_KEY_FILE"]
        if env.get("OMNIFLOW_AUDIT_CHECKPOINTS"):
            kwargs["audit_checkpoint_file"] = env["OMNIFLOW_AUDIT_CHECKPOINTS"]
        if env.get("OMNIFLOW_MODELS_DIR"):
            kwargs["models_dir"] = env["OMNIFLOW_MODELS_DIR"]
        if env.get("OMNIFLOW_WORKER") is not None and env.get("OMNIFLOW_WORKER") != "":
            kwargs["run_worker"] = env["OMNIFLOW_WORKER"].lower() in ("1", "true", "yes")
        kwargs["connector_env"] = {k: v for k, v in env.items()
                                   if k.startswith(CONNECTOR_ENV_PREFIX) and k != "OMNIFLOW_CONNECTOR_HOSTS"}
        if env.get("OMNIFLOW_CONNECTOR_HOSTS"):
            kwargs["connector_hosts"] = tuple(
                h.strip().lower() for h in env["OMNIFLOW_CONNECTOR_HOSTS"].split(",") if h.strip())
        if env.get("OMNIFLOW_SMTP_HOST"):
            kwargs["smtp_host"] = env["OMNIFLOW_SMTP_HOST"]
        if env.get("OMNIFLOW_SMTP_PORT"):
            kwargs["smtp_port"] = int(env["OMNIFLOW_SMTP_PORT"])
        for name in ("user", "password", "from"):
            if env.get(f"OMNIFLOW_SMTP_{name.upper()}"):
                kwargs[f"smtp_{name}"] = env[f"OMNIFLOW_SMTP_{name.upper()}"]
        if env.get("OMNIFLOW_SMTP_STARTTLS"):
            kwargs["smtp_starttls"] = env["OMNIFLOW_SMTP_STARTTLS"].lower() in ("1", "true", "yes")
        if env.get("OMNIFLOW_MAX_LONG_POLL_MS"):
            kwargs["max_long_poll_ms"] = int(env["OMNIFLOW_MAX_LONG_POLL_MS"])
        if env.get("OMNIFLOW_LOG_FORMAT"):
            kwargs["log_format"] = env["OMNIFLOW_LOG_FORMAT"].lower()
        if env.get("OMNIFLOW_LOG_LEVEL"):
            kwargs["log_level"] = env["OMNIFLOW_LOG_LEVEL"].lower()
        if env.get("OMNIFLOW_ENGINE_LOG"):
            kwargs["engine_log"] = env["OMNIFLOW_ENGINE_LOG"].lower()
        for var, key in (("OMNIFLOW_GROUPS", "extra_groups"),
                         ("OMNIFLOW_AUTHORITY_KEYS", "extra_authority_keys")):
            if env.get(var):
                kwargs[key] = tuple(x.strip() for x in env[var].split(",") if x.strip())
        if env.get("PROMETHEUS_MULTIPROC_DIR"):
            kwargs["metrics_dir"] = env["PROMETHEUS_MULTIPROC_DIR"]
        return cls(**kwargs)
