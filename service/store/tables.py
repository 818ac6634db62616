"""The tables of DESIGN.md, as peewee models bound to the shared database proxy.

``task`` and ``task_candidate`` are projections of the engine state written in the same
transaction as it, so the inbox is answered by indexed queries and never deserializes workflows.
"""
from __future__ import annotations

import peewee as pw

from .db import database
from .fields import JSONField, UTCDateTimeField, utcnow


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = pw.IntegerField(primary_key=True)
    name = pw.CharField()
    applied_at = UTCDateTimeField(default=utcnow)


class User(BaseModel):
    name = pw.CharField(unique=True, max_length=120)
    groups = JSONField(default=list)
    authority = JSONField(default=dict)       # action -> limit (number)
    is_client = pw.BooleanField(default=False)
    active = pw.BooleanField(default=True)
    created_at = UTCDateTimeField(default=utcnow)
    # Migration 6: people sign in to the pages with a password (argon2 hash); None = no password,
    # only tokens (machine clients, and people who never had one set).
    password_hash = pw.CharField(max_length=200, null=True)


class ApiToken(BaseModel):
    user = pw.ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = pw.CharField(unique=True, max_length=64)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField(null=True)            # none: until rotated or revoked


class WebSession(BaseModel):
    """A browser sign-in (migration 6): only the SHA-256 of the cookie's random value is kept,
    with the CSRF token the pages send back on every change."""
    user = pw.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    token_hash = pw.CharField(unique=True, max_length=64)
    csrf_token = pw.CharField(max_length=64)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField(index=True)


class Deployment(BaseModel):
    deployed_by = pw.CharField(max_length=120)
    deployed_at = UTCDateTimeField(default=utcnow)
    files = JSONField(default=list)


class Definition(BaseModel):
    kind = pw.CharField(max_length=16)          # bpmn | dmn | rules | casetype
    key = pw.CharField(max_length=200)
    version = pw.IntegerField()
    name = pw.CharField(max_length=300, null=True)
    file = pw.CharField(max_length=300)
    source = pw.TextField()
    sha256 = pw.CharField(max_length=64)
    meta = JSONField(default=dict)              # refs found at parse time
    # A BPMN file's connector bindings (``X.bindings.json`` deployed beside ``X.bpmn``), as
    # ``{"bindings": {...}}``; None for other kinds and for files deployed without one.
    bindings = JSONField(null=True)
    deployment = pw.ForeignKeyField(Deployment, backref="definitions")
    deployed_by = pw.CharField(max_length=120)
    deployed_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "key", "version"), True),)


class Case(BaseModel):
    type = pw.CharField(max_length=200, index=True)
    definition = pw.ForeignKeyField(Definition, null=True)
    external_ref = pw.CharField(max_length=200, null=True, index=True)
    submitted_by = pw.CharField(max_length=120)
    data = JSONField(default=dict)
    status = pw.CharField(max_length=20, default="open", index=True)
    priority = pw.CharField(max_length=10, null=True)
    score = pw.FloatField(null=True)
    cancel_reason = pw.TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow, index=True)
    updated_at = UTCDateTimeField(default=utcnow)
    closed_at = UTCDateTimeField(null=True)


class Idempotency(BaseModel):
    owner = pw.CharField(max_length=120)
    key = pw.CharField(max_length=200)
    scope = pw.CharField(max_length=40)         # which endpoint
    request_hash = pw.CharField(max_length=64)
    status_code = pw.IntegerField(null=True)
    response = JSONField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner", "scope", "key"), True),)


class Instance(BaseModel):
    case = pw.ForeignKeyField(Case, backref="instances", on_delete="CASCADE")
    definition = pw.ForeignKeyField(Definition)
    state = pw.TextField()
    status = pw.CharField(max_length=20, default="waiting", index=True)
    version = pw.IntegerField(default=1)        # optimistic lock
    next_due_at = UTCDateTimeField(null=True, index=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        # Migration 2: the worker's "waiting and due, in due order" is one range read of this
        # index; with the single-column ones SQLite picks ``status`` and sorts every waiting row.
        indexes = ((("status", "next_due_at"), False),)


class Task(BaseModel):
    instance = pw.ForeignKeyField(Instance, backref="tasks", on_delete="CASCADE")
    case = pw.ForeignKeyField(Case, backref="tasks", on_delete="CASCADE")
    engine_task_id = pw.CharField(max_length=64)
    element_id = pw.CharField(max_length=200)
    name = pw.CharField(max_length=300, null=True)
    case_type = pw.CharField(max_length=200)
    candidate_groups = JSONField(default=list)
    candidate_users = JSONField(default=list)
    assignee = pw.CharField(max_length=120, null=True)
    status = pw.CharField(max_length=20, default="open")   # open | claimed | completed | cancelled
    form = JSONField(default=dict)
    properties = JSONField(default=dict)
    due_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    claimed_by = pw.CharField(max_length=120, null=True)
    claimed_at = UTCDateTimeField(null=True)
    completed_by = pw.CharField(max_length=120, null=True)
    completed_at = UTCDateTimeField(null=True)
    result = JSONField(null=True)

    class Meta:
        # Migration 13: each person column with ``status``, so the inbox of a small group reads
        # the caller's own tasks in the statuses asked for by index, not their whole history
        # (``policy.visibility.inbox_tasks``); the column alone is the index's prefix.
        indexes = ((("status", "due_at"), False), (("instance", "engine_task_id"), False),
                   (("assignee", "status"), False), (("claimed_by", "status"), False),
                   (("completed_by", "status"), False))


class TaskCandidate(BaseModel):
    """One row per candidate group or user of an open task: the inbox's index."""
    task = pw.ForeignKeyField(Task, backref="candidates", on_delete="CASCADE")
    kind = pw.CharField(max_length=8)           # group | user
    name = pw.CharField(max_length=120)

    class Meta:
        indexes = ((("kind", "name"), False),)


class Job(BaseModel):
    kind = pw.CharField(max_length=20)          # timer | retry | outbox | signal
    instance = pw.ForeignKeyField(Instance, null=True, on_delete="CASCADE")
    case = pw.ForeignKeyField(Case, null=True, on_delete="CASCADE")
    due_at = UTCDateTimeField()
    payload = JSONField(default=dict)
    status = pw.CharField(max_length=12, default="pending")  # pending | done | failed
    attempts = pw.IntegerField(default=0)
    max_attempts = pw.IntegerField(default=5)
    idempotency_key = pw.CharField(max_length=200, null=True, unique=True)
    locked_by = pw.CharField(max_length=120, null=True)
    locked_until = UTCDateTimeField(null=True)
    last_error = pw.TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    done_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("status", "due_at"), False),)


class Incident(BaseModel):
    case = pw.ForeignKeyField(Case, backref="incidents", on_delete="CASCADE")
    instance = pw.ForeignKeyField(Instance, on_delete="CASCADE")
    element_id = pw.CharField(max_length=200, null=True)
    message = pw.TextField()
    status = pw.CharField(max_length=12, default="open", index=True)   # open | resolved
    created_at = UTCDateTimeField(default=utcnow)
    resolved_at = UTCDateTimeField(null=True)
    # Added by migration 2: what failed (engine run or outbox delivery) and the job to re-run.
    kind = pw.CharField(max_length=12, default="engine")        # engine | outbox | timer
    job = pw.ForeignKeyField(Job, null=True, on_delete="SET NULL")


class MessageSubscription(BaseModel):
    """One message an instance waits for, keyed by name and its correlation values.

    A projection of the engine state written with it (like ``task``), so delivering a message
    is an indexed lookup and never deserializes waiting workflows.
    """
    instance = pw.ForeignKeyField(Instance, backref="subscriptions", on_delete="CASCADE")
    name = pw.CharField(max_length=200)
    correlation_key = pw.CharField(max_length=500)   # canonical JSON of the correlation values
    correlation = JSONField(default=dict)
    element_id = pw.CharField(max_length=200, null=True)
    # For a catch that declares no correlation key (most Camunda 7 and bpmn.io files): the
    # instance's scalar variables, matched against a message's correlation values.
    variables = JSONField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("name", "correlation_key"), False),)


class DecisionRecord(BaseModel):
    case = pw.ForeignKeyField(Case, null=True, backref="decisions", on_delete="CASCADE")
    instance = pw.ForeignKeyField(Instance, null=True, on_delete="CASCADE")
    kind = pw.CharField(max_length=12)          # decision | score
    element_id = pw.CharField(max_length=200, null=True)
    definition_key = pw.CharField(max_length=200, null=True, index=True)
    definition_version = pw.IntegerField(null=True)
    inputs = JSONField(default=dict)
    outputs = JSONField(null=True)
    matched_rules = JSONField(default=list)
    model_name = pw.CharField(max_length=120, null=True, index=True)
    model_version = pw.IntegerField(null=True)
    score = pw.FloatField(null=True)
    contributions = JSONField(null=True)
    shadow = JSONField(null=True)
    actor = pw.CharField(max_length=120, null=True)
    created_at = UTCDateTimeField(default=utcnow, index=True)


class AuditHead(BaseModel):
    """The single row every append locks, so the chain never forks (DESIGN.md, Audit)."""
    id = pw.IntegerField(primary_key=True)
    seq = pw.BigIntegerField(default=0)
    hash = pw.CharField(max_length=64, default="0" * 64)
    mac = pw.CharField(max_length=64, null=True)            # HMAC of (seq, hash), audit key
    mac_from = pw.BigIntegerField(null=True)                # the first row with a MAC


class AuditEvent(BaseModel):
    seq = pw.BigIntegerField(primary_key=True)
    at = UTCDateTimeField(default=utcnow)
    actor = pw.CharField(max_length=120)
    case_id = pw.IntegerField(null=True, index=True)
    instance_id = pw.IntegerField(null=True)
    kind = pw.CharField(max_length=60, index=True)
    detail = JSONField(default=dict)
    prev_hash = pw.CharField(max_length=64)
    hash = pw.CharField(max_length=64)
    mac = pw.CharField(max_length=64, null=True)            # HMAC of hash, audit key


class Signal(BaseModel):
    id = pw.CharField(primary_key=True, max_length=200)
    type = pw.CharField(max_length=60)
    at = UTCDateTimeField()
    data = JSONField(default=dict)
    partition = pw.CharField(max_length=120, index=True)
    seq = pw.BigIntegerField(index=True)        # arrival order
    received_at = UTCDateTimeField(default=utcnow)
    status = pw.CharField(max_length=20, default="pending", index=True)
    outcome = JSONField(null=True)
    case = pw.ForeignKeyField(Case, null=True, on_delete="SET NULL")

    class Meta:
        # The consumer reads a partition in arrival order from its position (migration 3).
        indexes = ((("partition", "seq"), False),)


class Lease(BaseModel):
    partition = pw.CharField(primary_key=True, max_length=120)
    owner = pw.CharField(max_length=120)
    expires_at = UTCDateTimeField()
    position = pw.BigIntegerField(default=0)    # last processed signal seq


class Message(BaseModel):
    message_id = pw.CharField(primary_key=True, max_length=200)
    name = pw.CharField(max_length=200)
    correlation = JSONField(default=dict)
    data = JSONField(default=dict)
    instance = pw.ForeignKeyField(Instance, null=True, on_delete="SET NULL")
    received_at = UTCDateTimeField(default=utcnow)
    response = JSONField(null=True)


class ModelVersion(BaseModel):
    name = pw.CharField(max_length=120)
    version = pw.IntegerField()
    artifact_sha256 = pw.CharField(max_length=64)
    artifact_path = pw.CharField(max_length=500)
    metrics = pw.TextField(default="{}")
    feature_schema = pw.TextField(default="[]")
    params = pw.TextField(default="{}")
    status = pw.CharField(max_length=12, default="candidate")  # candidate | active | shadow | retired
    validated = pw.BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)
    activated_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("name", "version"), True),)


class ExternalTask(BaseModel):
    """An external task waiting for a worker (Camunda external task, Zeebe job), with its lock.

    A projection of the engine state written with it (like ``task``): fetchAndLock is an
    indexed query, the lock (``worker_id``, ``lock_expires_at``) lives here, so two workers
    never hold one task, an expired lock lets another take it and nothing is lost across a
    restart. ``variables`` is the snapshot the task was created with.
    """
    instance = pw.ForeignKeyField(Instance, backref="external_tasks", on_delete="CASCADE")
    case = pw.ForeignKeyField(Case, on_delete="CASCADE")
    engine_task_id = pw.CharField(max_length=64)
    element_id = pw.CharField(max_length=200)
    name = pw.CharField(max_length=300, null=True)
    topic = pw.CharField(max_length=200)
    process_key = pw.CharField(max_length=200)
    business_key = pw.CharField(max_length=200, null=True)
    variables = JSONField(default=dict)
    headers = JSONField(default=dict)
    priority = pw.IntegerField(default=0)
    retries = pw.IntegerField(null=True)        # Camunda: null until a worker reports a failure
    error_message = pw.TextField(null=True)
    error_details = pw.TextField(null=True)
    worker_id = pw.CharField(max_length=200, null=True)
    lock_expires_at = UTCDateTimeField(null=True)
    available_at = UTCDateTimeField(default=utcnow)   # retryTimeout pushes this forward
    status = pw.CharField(max_length=12, default="open")   # open | done | incident | cancelled
    created_at = UTCDateTimeField(default=utcnow)
    done_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("status", "topic", "available_at"), False),
                   (("instance", "engine_task_id"), False))


class NotificationPreference(BaseModel):
    """A user's address for email and the notification kinds they opted out of."""
    user = pw.ForeignKeyField(User, unique=True, on_delete="CASCADE")
    email = pw.CharField(max_length=320, null=True)
    muted = JSONField(default=list)             # kinds: task_assigned, sla_breached, escalated
    updated_at = UTCDateTimeField(default=utcnow)


class TaskNotice(BaseModel):
    """That the notifications of one kind were queued for a task (so each goes out once)."""
    task = pw.ForeignKeyField(Task, on_delete="CASCADE")
    kind = pw.CharField(max_length=20)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("task", "kind"), True),)


class TimerStart(BaseModel):
    """The schedule of a deployed process's timer start event: one row per process key (a
    redeploy replaces it), the next due time (None: it will not fire again) and how often it
    has started a case. ``timer`` is absolute (a cycle counted from the deploy carries its
    first due time as its start), so the next due time follows from the last one."""
    key = pw.CharField(max_length=200, unique=True)
    definition = pw.ForeignKeyField(Definition, on_delete="CASCADE")
    element_id = pw.CharField(max_length=200, null=True)
    kind = pw.CharField(max_length=16)          # timeCycle | timeDate
    timer = pw.CharField(max_length=500)
    next_due_at = UTCDateTimeField(null=True, index=True)
    fired = pw.IntegerField(default=0)
    updated_at = UTCDateTimeField(default=utcnow)


class WorkerHeartbeat(BaseModel):
    """That a background worker is alive: each worker process upserts its row every few
    seconds; readiness (``/readyz``) asks whether any row is fresh."""
    owner = pw.CharField(primary_key=True, max_length=200)
    seen_at = UTCDateTimeField(default=utcnow, index=True)


ALL_TABLES = [SchemaVersion, User, ApiToken, WebSession, Deployment, Definition, Case,
              Idempotency, Instance,
              Task, TaskCandidate, Job, Incident, DecisionRecord, AuditHead, AuditEvent, Signal,
              Lease, Message, ModelVersion, MessageSubscription, ExternalTask,
              NotificationPreference, TaskNotice, WorkerHeartbeat, TimerStart]
