import pytest

from service.errors import PolicyViolation
from service.policy import Identity, can_see_task, can_work_task, check_completion, parse_authority

ANA = Identity("ana", frozenset({"store_manager"}), {"refund": 500})
APPROVAL = {"approval": "true", "action": "refund", "amount": 300}


def test_submitter_can_never_complete_its_approval():
    with pytest.raises(PolicyViolation) as exc:
        check_completion(ANA, submitted_by="ana", properties=APPROVAL, prior_approvers=[])
    assert exc.value.extra["rule"] == "four-eyes"


def test_requester_named_in_the_case_can_never_complete_its_approval():
    with pytest.raises(PolicyViolation):
        check_completion(ANA, submitted_by="pos", requesters=["ana"], properties=APPROVAL,
                         prior_approvers=[])
    check_completion(ANA, submitted_by="pos", requesters=["bob"], properties=APPROVAL,
                     prior_approvers=[])


def test_second_approval_needs_a_different_user():
    with pytest.raises(PolicyViolation):
        check_completion(ANA, submitted_by="oms", properties=APPROVAL, prior_approvers=["ana"])


def test_authority_limit_must_cover_the_amount():
    check_completion(ANA, submitted_by="oms", properties=APPROVAL, prior_approvers=[])
    with pytest.raises(PolicyViolation) as exc:
        check_completion(ANA, submitted_by="oms", properties={**APPROVAL, "amount": 800},
                         prior_approvers=[])
    assert exc.value.extra["rule"] == "authority"
    assert exc.value.extra["limit"] == 500 and exc.value.extra["amount"] == 800


def test_no_limit_for_the_action_is_a_violation():
    with pytest.raises(PolicyViolation):
        check_completion(ANA, submitted_by="oms",
                         properties={"action": "adjustment", "amount": 1}, prior_approvers=[])


def test_plain_tasks_have_no_approval_rules():
    check_completion(ANA, submitted_by="ana", properties={}, prior_approvers=["ana"])


def test_visibility_and_auditors_read_only():
    auditor = Identity("aud", frozenset({"auditor"}))
    assert can_see_task(ANA, ["store_manager"], [], None)
    assert not can_see_task(ANA, ["finance"], [], None)
    assert can_see_task(ANA, ["finance"], ["ana"], None)
    assert can_see_task(auditor, ["finance"], [], None)
    assert not can_work_task(auditor, ["finance"], [], None)


def test_parse_authority():
    assert parse_authority(["refund=500,adjustment=200.5"]) == {"refund": 500, "adjustment": 200.5}
    with pytest.raises(Exception):
        parse_authority(["refund"])
