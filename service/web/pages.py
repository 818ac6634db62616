"""The pages under ``/ui``: each one a template and a script that calls ``/api/v1`` with the
session cookie. The pages hold no data of their own; what a person may do comes from
:mod:`service.usecases.capabilities`, so no button is offered that the server would refuse."""
from __future__ import annotations

from flask import abort, redirect

from ..usecases import capabilities
from .blueprint import bp, page
from .signin import signed_in

MODELER = ("modeler",)
DMN = ("dmn",)


@bp.get("/ui")
@bp.get("/ui/")
def home():
    return redirect("/ui/inbox")


@bp.get("/inbox")
def old_inbox():
    """The first inbox page lived here; its bookmarks now land on the new one."""
    return redirect("/ui/inbox", code=301)


@bp.get("/ui/inbox")
@signed_in
def inbox(session):
    return page("inbox.html", session, title="Inbox", script="inbox.js")


@bp.get("/ui/tasks/<int:task_id>")
@signed_in
def task(session, task_id):
    return page("inbox.html", session, title="Task", script="inbox.js", task_id=task_id)


@bp.get("/ui/cases/<int:case_id>")
@signed_in
def case(session, case_id):
    return page("case.html", session, title=f"Case {case_id}", script="case.js",
                vendor=("viewer",), case_id=case_id)


@bp.get("/ui/incidents")
@signed_in
def incidents(session):
    return page("incidents.html", session, title="Incidents", script="incidents.js",
                vendor=("viewer",))


@bp.get("/ui/dashboard")
@signed_in
def dashboard(session):
    if not capabilities.of(session.identity)["dashboard"]:
        abort(403)
    return page("dashboard.html", session, title="Operations", script="dashboard.js")


@bp.get("/ui/definitions")
@signed_in
def definitions(session):
    if not capabilities.of(session.identity)["workbench"]:
        abort(403)
    return page("definitions.html", session, title="Definitions", script="definitions.js")


@bp.get("/ui/definitions/<key>")
@signed_in
def workbench(session, key):
    if not capabilities.of(session.identity)["workbench"]:
        abort(403)
    return page("workbench.html", session, title=f"Workbench: {key}", script="workbench.js",
                vendor=("modeler", "dmn"), key=key)
