"""What a plan is pinned to: each account's id and how the console reaches it.

An approval is for one plan's changes *and* its targets. The fingerprint covers how every account
is reached (so an edit makes the plan stale), and every step that writes first checks with
GetCallerIdentity that its credentials are in the account the plan was made for: the fingerprint
cannot see a profile that was repointed in the AWS config file behind the console's back.
"""
import hashlib

from accounts.models import AssumableAccount, MasterAccount
from integrations import aws


class WrongAccount(aws.AwsError):
    """Credentials that reach another account than the one recorded: nothing may be done there."""

    def __init__(self, message: str):
        super().__init__(message, code="WrongAccount")


class TargetChanged(aws.AwsError):
    """How an account is reached changed between the approval and the step that writes."""

    def __init__(self, message: str):
        super().__init__(message, code="TargetChanged")


def external_id_digest(external_id: str) -> str:
    """Stands for the external id in the plan record: any change shows, the value itself is not kept
    (AWS does not count it as a secret, but the console shows it nowhere, so plans do not either)."""
    return hashlib.sha256(external_id.encode()).hexdigest() if external_id else ""


def master_target(master: MasterAccount) -> dict:
    return {"account_id": master.account_id, "profile": master.profile, "region": master.region}


def account_target(account: AssumableAccount, master: MasterAccount) -> dict:
    """How one account is reached; its region is the master's (accounts.access)."""
    return {
        "account_id": account.account_id,
        "profile": "" if account.role_arn else account.profile,
        "role_arn": account.role_arn,
        "external_id_sha256": external_id_digest(account.external_id) if account.role_arn else "",
        "region": master.region,
    }


def ensure_unchanged(*, label: str, recorded: dict | None, current: dict) -> None:
    """Raise :class:`TargetChanged` unless ``current`` (how the account is reached now, from the
    database) is what the plan recorded. An apply is refused as stale when it starts; this holds
    the same for an edit made while its job waits in the queue or runs."""
    recorded = recorded or {}
    if any(recorded.get(key) != value for key, value in current.items()):
        raise TargetChanged(
            f"{label}: how the account is reached changed after the plan was made (then: {describe_reach(recorded)}; "
            f"now: {describe_reach(current)}); nothing was written. Request a new plan."
        )


def describe_reach(target: dict) -> str:
    """One line for people: how the credentials are obtained, never a secret."""
    if "profile" not in target and "role_arn" not in target:
        return "not recorded (the plan was made before targets were pinned)"
    if target.get("role_arn"):
        with_id = "with an external id" if target.get("external_id_sha256") else "without an external id"
        return f"role ARN {target['role_arn']} assumed from the master session, {with_id}"
    if target.get("profile"):
        return f"profile {target['profile']}"
    return "the default credential chain"


def plan_targets(plan) -> dict:
    """The targets a plan was made for, as its page and ``plan --json`` show them (none until it is
    computed, or when planning failed)."""
    document = plan.desired_state or {}
    master = document.get("master")
    if not master:
        return {"master": None, "accounts": []}
    return {
        "master": {
            "account_id": master.get("account_id", ""),
            "profile": master.get("profile", ""),
            "region": master.get("region", ""),
            "reached_through": describe_reach(master),
        },
        "accounts": [
            {
                "name": name,
                "account_id": entry.get("account_id", ""),
                "enabled": entry.get("enabled", True),
                "profile": entry.get("profile", ""),
                "role_arn": entry.get("role_arn", ""),
                "external_id": bool(entry.get("external_id_sha256")),
                "region": entry.get("region", ""),
                "reached_through": describe_reach(entry),
            }
            for name, entry in sorted((document.get("accounts") or {}).items())
        ],
    }


def mismatch(*, label: str, reached: str, expected: str, outcome: str, expected_as: str = "the plan was made for") -> str:
    """The message when credentials reached another account than ``expected``; "" when they did not."""
    if reached and reached == expected:
        return ""
    if not expected:
        return f"{label}: no account id is recorded, so the account reached cannot be checked; {outcome}"
    return f"{label}: credentials reached account {reached or '(unknown)'}, but {expected_as} {expected}; {outcome}"


def verify_reached(access: aws.AccountAccess, counter: aws.CallCounter, *, expected: str,
                   outcome: str = "nothing was written") -> None:
    """Ask STS which account these credentials are in; raise :class:`WrongAccount` unless ``expected``.

    Called before a step's first write. Never cached: the profile may have been repointed since.
    """
    problem = mismatch(label=access.label, reached=aws.caller_account_id(access, counter) if expected else "",
                       expected=expected, outcome=outcome)
    if problem:
        raise WrongAccount(problem)
