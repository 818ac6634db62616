"""Governance rules enforced by the engine: task visibility, four-eyes and authority limits.

These are checks, not conventions: the task completion path calls :func:`check_completion`
before the engine moves, and a violation is a ``PolicyViolation`` the caller audits.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ..errors import PolicyViolation
from .identity import Identity


def can_see_task(who: Identity, candidate_groups, candidate_users, assignee) -> bool:
    if who.is_admin or who.is_auditor:
        return True
    if assignee == who.name or who.name in (candidate_users or ()):
        return True
    return bool(who.groups & set(candidate_groups or ()))


def can_work_task(who: Identity, candidate_groups, candidate_users, assignee) -> bool:
    """Auditors read everything and change nothing."""
    if who.is_auditor and not who.is_admin:
        return False
    return can_see_task(who, candidate_groups, candidate_users, assignee)


def _amount(value) -> Decimal | None:
    """The amount as a finite decimal, or None when there is none (or it is not a number)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def check_completion(who: Identity, *, submitted_by: str, properties: dict,
                     prior_approvers: list[str], requesters=()) -> None:
    """Raise ``PolicyViolation`` if ``who`` may not complete this task.

    ``properties`` are the task's evaluated extension properties: ``approval`` (truthy marks an
    approval task), ``action`` and ``amount`` (authority), ``approvals_required`` (distinct
    approvers needed). ``prior_approvers`` are users who already approved this case's action.
    ``requesters`` are the other people behind what is being approved: the requester the case
    data names when a machine client (a POS, the OMS) submitted on their behalf, and whoever
    did the case's work that led to the approval (chose the refund, counted the shelf).
    """
    is_approval = _truthy(properties.get("approval")) or bool(properties.get("action"))
    if is_approval and who.name == submitted_by:
        raise PolicyViolation("four-eyes: whoever submitted the case cannot complete its "
                              "approval", rule="four-eyes")
    if is_approval and who.name in set(requesters):
        raise PolicyViolation("four-eyes: whoever requested what is being approved, or did the "
                              "work behind it, cannot complete its approval", rule="four-eyes")
    if is_approval and who.name in prior_approvers:
        raise PolicyViolation("four-eyes: a second approval must come from a different user",
                              rule="four-eyes")
    action, amount = properties.get("action"), _amount(properties.get("amount"))
    if action and amount is None:
        # Fail closed: an amount the process could not compute is not "no amount".
        raise PolicyViolation(
            f"authority: the amount of this {action} is unknown, so no authority limit can "
            "cover it; the process must establish the amount before it asks for approval",
            rule="authority", action=str(action), amount=None)
    if action:
        limit = who.limit_for(str(action))
        if limit is None or limit < amount:
            raise PolicyViolation(
                f"authority: {who.name}'s limit for {action} "
                f"({'none' if limit is None else limit}) does not cover {amount}",
                rule="authority", action=str(action), amount=float(amount),
                limit=None if limit is None else float(limit))


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)
