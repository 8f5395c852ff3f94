"""Each account's live stack as the console last read it (``accounts.models.LiveStackRecord``).

A plan reads every stack with DescribeStacks. When the stack's id, status and last-updated time
equal the record, its template cannot have changed: the plan uses the recorded one and skips
GetTemplate. Otherwise it reads the template and the stack's roles (their physical names) and the
record is replaced. An apply that changed a stack refreshes the record at once.

The physical names matter for roles imported without ``RoleName``: CloudFormation named them
``<stack>-<logical id>-<random>``, and the master account's group policies must name exactly those.
"""
import logging
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import AssumableAccount, LiveStackRecord
from integrations import aws

logger = logging.getLogger(__name__)

# No template to read: the stack only holds change sets, or is gone.
NO_TEMPLATE_STATUSES = ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE")


@dataclass
class StackRead:
    """What one account's read found: the stack (None: there is none) and whether the template came
    from the record; ``role_names`` is set when the stack was read afresh and may be recorded."""

    live: aws.LiveStack | None
    from_record: bool = False
    role_names: dict | None = None

    @property
    def gone(self) -> bool:
        """No stack, or one without a template (deleted, or only a CREATE change set under review)."""
        return self.live is None or self.live.status in NO_TEMPLATE_STATUSES


def _busy(status: str) -> bool:
    # Mid-operation the template and resources are in flux, and the last-updated time will not
    # change when the operation ends: such a read must not become the record.
    return status.endswith("_IN_PROGRESS") and status not in NO_TEMPLATE_STATUSES


def read_stack(
    access: aws.AccountAccess, counter: aws.CallCounter, *, stack_name: str, record: LiveStackRecord | None
) -> StackRead:
    """Read one account's stack, one call after another; AWS calls only, no database.

    1. DescribeStacks. No stack, or one without a template, or the same stack id, status and
       last-updated time as ``record``: that is all (:func:`settled_by_status`).
    2. Otherwise GetTemplate, and, unless the stack is busy, its roles (:func:`fresh_reads`).

    A plan makes the same calls, but those of step 2 side by side for every account at once.
    """
    live = aws.stack_status(access, counter, stack_name=stack_name)
    settled = settled_by_status(live, stack_name=stack_name, record=record)
    if settled is not None:
        return settled
    reads = fresh_reads(access, counter, live=live, stack_name=stack_name)
    return fresh_read(live, {name: read() for name, read in reads.items()})


def settled_by_status(live: aws.LiveStack | None, *, stack_name: str, record: LiveStackRecord | None) -> StackRead | None:
    """The read when DescribeStacks settles it: no stack or none with a template, or a stack unchanged
    since ``record`` (its recorded template, no more calls). None when it must be read afresh."""
    if StackRead(live=live).gone:
        return StackRead(live=live)
    if record is not None and record.is_current(
        stack_name=stack_name, stack_id=live.stack_id, stack_status=live.status, last_updated=live.last_updated
    ):
        live.template = record.template
        return StackRead(live=live, from_record=True)
    return None


def fresh_reads(access: aws.AccountAccess, counter: aws.CallCounter, *, live: aws.LiveStack, stack_name: str) -> dict:
    """The calls that read a changed stack afresh, independent of each other (they may run side by
    side): its template, and unless the stack is busy its roles (ListStackResources, paginated)."""
    stack = live.stack_id or stack_name
    reads = {"template": lambda: aws.stack_template(access, counter, stack_id=stack)}
    if not _busy(live.status):
        reads["roles"] = lambda: {role["logical_id"]: role["role_name"]
                                  for role in aws.stack_roles(access, counter, stack_name=stack)}
    return reads


def fresh_read(live: aws.LiveStack, results: dict) -> StackRead:
    """The read, from the results of :func:`fresh_reads` (by the same names)."""
    live.template = results["template"]
    return StackRead(live=live, role_names=results.get("roles"))


def store(*, account: AssumableAccount, stack_name: str, read: StackRead) -> None:
    """Keep what ``read`` found: a fresh read replaces the record, a stack that is gone drops it."""
    live = read.live
    if read.gone:
        forget(account=account)
        return
    if read.role_names is None:
        return  # the record stands (unchanged stack), or the stack was busy
    LiveStackRecord.objects.update_or_create(
        account=account,
        defaults={
            "stack_name": stack_name,
            "stack_id": live.stack_id,
            "stack_status": live.status,
            "last_updated": live.last_updated,
            "template": live.template,
            "role_names": read.role_names,
            "read_at": timezone.now(),
        },
    )


def forget(*, account: AssumableAccount) -> None:
    """Drop the record after a failed apply: the stack may be anything now, and a fake AWS (or a
    failure within the same second) need not change its last-updated time."""
    LiveStackRecord.objects.filter(account=account).delete()


def records_for(accounts, *, stack_name: str) -> dict:
    """The records of these accounts for this stack name, by account id (pk)."""
    records = LiveStackRecord.objects.filter(account__in=list(accounts), stack_name=stack_name)
    return {record.account_id: record for record in records}


def refresh_after_apply(
    access: aws.AccountAccess, counter: aws.CallCounter, *, account: AssumableAccount, stack_name: str
) -> str:
    """Read the stack an apply just changed and keep it, so the next plan need not read its template.

    Returns what happened, for the step log. A failed read is not the apply's failure: the record
    is then left as it was, and the next plan sees a different stack and reads it afresh.
    """
    try:
        read = read_stack(access, counter, stack_name=stack_name, record=None)
    except aws.AwsError as error:
        logger.warning("could not read stack %s of %s after the apply: %s", stack_name, account, error)
        return f"Could not read the stack back ({error}); the next plan reads it afresh"
    store(account=account, stack_name=stack_name, read=read)
    if read.gone:
        return "Recorded that the stack is gone"
    if read.role_names is None:
        return f"The stack is {read.live.status}; the next plan reads it afresh"
    return f"Recorded the stack's template and its {len(read.role_names)} role name(s)"
