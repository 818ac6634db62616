"""Identities, groups, authority limits, four-eyes and object-level access."""
from .identity import (ADMIN, ANALYST, AUDITOR, SYSTEM, Identity, add_user, authenticate,
                       find_identity, hash_token, identity_of, issue_token, parse_authority,
                       revoke_tokens)
from .rules import can_see_task, can_work_task, check_completion
from .visibility import (inbox_tasks, may_see_task, visible_cases, visible_incidents,
                         visible_tasks)

__all__ = ["ADMIN", "ANALYST", "AUDITOR", "SYSTEM", "Identity", "add_user", "authenticate",
           "find_identity", "hash_token", "identity_of", "issue_token", "parse_authority",
           "revoke_tokens",
           "can_see_task", "can_work_task", "check_completion", "may_see_task", "visible_cases",
           "visible_incidents", "visible_tasks", "inbox_tasks"]
