"""Discarding change sets nobody will execute: those of a dead plan (superseded, rejected, failed) and
those a failed apply did not execute, with a stack only such a change set made.

A new plan works with or without them, so this runs in its own retried task after the outcome is
recorded (``plans.dispatch``). Nothing is deleted through credentials that reach another account than
the one a change set lives in, and every call is counted on the job step of its account.
"""
from accounts.models import AssumableAccount, MasterAccount
from integrations import aws
from plans import targets
from accounts.access import account_access
from plans.jobs import step_add_calls
from plans.models import Job, JobStep, Plan


def discard_change_sets(*, plan_id: int) -> list[str]:
    """Delete a dead plan's change sets, and stacks that only its CREATE change sets made. The calls
    are counted on the plan job's step of each account."""
    plan = Plan.objects.get(pk=plan_id)
    job = plan.jobs.filter(kind=Job.Kind.PLAN).first()
    return discard_account_change_sets(plan.accounts, job=job)


def discard_unexecuted_change_sets(*, job_id: int) -> list[str]:
    """After a failed apply, delete the change sets its account steps did not execute, and a stack
    only such a change set made, so nothing stale waits in an account: the plan is dead, and the
    next plan makes fresh change sets. Returns the accounts cleaned."""
    job = Job.objects.select_related("plan").get(pk=job_id)
    if job.status != Job.Status.FAILED:
        return []
    unfinished = job.steps.exclude(target=JobStep.MASTER).exclude(status=JobStep.Status.SUCCEEDED)
    by_name = {entry["name"]: entry for entry in job.plan.accounts}
    entries = [by_name[step.target] for step in unfinished]
    return discard_account_change_sets(entries, only_unexecuted=True, job=job)


def discard_account_change_sets(entries: list[dict], *, only_unexecuted: bool = False, job: Job | None = None) -> list[str]:
    """Delete the change sets of these account plan entries, and a stack only such a change set made
    (kept while a newer plan's change set is on it). With ``only_unexecuted``, a change set an apply
    already executed (or is executing) is left alone. The calls made for each account are added to
    ``job``'s step of that account (its ``api_calls``, under "cleanup" too), even when one fails.
    Returns the accounts cleaned.

    Nothing is deleted through credentials that reach another account than the one the change set
    lives in (its ARN says which): those are left, and raised as ``WrongAccount`` after the others."""
    master = MasterAccount.load()
    accounts = {account.name: account for account in AssumableAccount.objects.all()}
    cleaned, wrong = [], []
    for entry in entries:
        if not entry.get("change_set_id") or entry["name"] not in accounts:
            continue
        access = account_access(accounts[entry["name"]], master)
        counter = aws.CallCounter()
        try:
            # The change set's own ARN names the account it lives in: delete only there.
            expected = aws.account_id_from_arn(entry["change_set_id"]) or entry.get("account_id", "")
            try:
                targets.verify_reached(access, counter, expected=expected, outcome="nothing was deleted")
            except targets.WrongAccount as error:
                wrong.append(str(error))
                continue
            if not only_unexecuted or _change_set_execution_status(access, counter, entry["change_set_id"]) == "AVAILABLE":
                aws.change_set_delete(access, counter, change_set_id=entry["change_set_id"])
            if entry.get("created_stack"):
                aws.stack_delete_if_under_review(access, counter, stack_name=master.stack_name)
        finally:
            if job is not None:
                step_add_calls(job=job, target=entry["name"], counter=counter, part="cleanup")
        cleaned.append(entry["name"])
    if wrong:
        # Raised after the others are cleaned, so the task retries these once the profile is put right.
        raise targets.WrongAccount("; ".join(wrong))
    return cleaned


def _change_set_execution_status(access, counter, change_set_id: str) -> str:
    try:
        execution_status, _ = aws.change_set_status(access, counter, change_set_id=change_set_id)
    except aws.AwsError as error:
        if not aws.is_missing_change_set(error):
            raise
        return "GONE"
    return execution_status
