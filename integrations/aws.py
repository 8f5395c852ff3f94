"""The one module that talks to AWS. Nothing else imports boto3 or botocore.

* A session per account: a named profile, the default chain, or a role assumed from the master
  session (with an optional external id). Assumed credentials refresh themselves before expiry
  and sessions are cached per process.
* ``AWS_ENDPOINT_URL`` is honoured by boto3 itself (the moto server in tests and the demo).
* Throttling is retried with botocore's adaptive mode; every call made through a client from
  :func:`client` is counted per operation into the ``CallCounter`` given, retries included, and so
  is the AssumeRole that fetched (or refreshed) the credentials it was signed with.
* Every call is bounded: connect and read timeouts and the number of attempts come from the
  settings ``ROLEMODEL_AWS_CONNECT_TIMEOUT``, ``ROLEMODEL_AWS_READ_TIMEOUT`` and
  ``ROLEMODEL_AWS_MAX_ATTEMPTS``, so an AWS that stops answering fails a job within about
  attempts × (connect + read timeout) plus the retry pauses, never hangs it.
* Every botocore error leaves this module as :class:`AwsError` with a readable message.
* Calls may be made from several threads at once: sessions (not thread-safe) are built under a lock
  and share one loader of AWS's service descriptions, clients (thread-safe) are shared, and every
  call is counted into its own counter whichever thread makes it.
* Waiting for CloudFormation polls with pauses that double up to a cap (:func:`poll_until`).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote

import boto3
import botocore.exceptions
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials
from botocore.loaders import Loader
from botocore.session import get_session

from core import safe_json
from core.safe_yaml import YAMLInputError, load_yaml

READ_PREFIXES = ("Describe", "Get", "List", "Validate", "Estimate", "Detect")
CREDENTIAL_OPERATIONS = ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "GetSessionToken")
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 8
SESSION_NAME = "rolemodel-console"
IAM_PAGE_SIZE = 1000  # the most GetAccountAuthorizationDetails returns per page (AWS defaults to 100)
# No answer came back at all (as opposed to an answer saying no): AWS stopped answering…
NO_ANSWER_ERRORS = (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError)
# …or could not be reached in the first place.
UNREACHABLE_ERRORS = (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.EndpointConnectionError)
# CloudFormation has no error code of its own for a missing stack: DescribeStacks, ListStackResources,
# DescribeStackEvents and GetTemplate answer ``ValidationError`` with "Stack with id NAME does not exist"
# (moto sends the same). ``ValidationError`` also covers malformed requests, so the message decides, and
# only for this code.
MISSING_STACK_CODE = "ValidationError"
MISSING_STACK_WORDS = "does not exist"
MISSING_CHANGE_SET_CODES = ("ChangeSetNotFound", "ChangeSetNotFoundException")

logger = logging.getLogger(__name__)


class AwsError(Exception):
    """A failed AWS call, with the service's own code and message."""

    def __init__(self, message: str, *, code: str = "", operation: str = "", aws_message: str = ""):
        super().__init__(message)
        self.code = code
        self.operation = operation
        # The service's own words, without our label and operation in front (which may hold any text).
        self.aws_message = aws_message


def is_missing_stack(error: AwsError) -> bool:
    """True when AWS answered that the stack does not exist (see ``MISSING_STACK_CODE``)."""
    return error.code == MISSING_STACK_CODE and MISSING_STACK_WORDS in error.aws_message


def is_missing_change_set(error: AwsError) -> bool:
    return error.code in MISSING_CHANGE_SET_CODES


@dataclass(frozen=True)
class AccountAccess:
    """How to reach one account. Holds no secret: profiles and role ARNs only."""

    label: str
    region: str = "us-east-1"
    profile: str = ""
    role_arn: str = ""
    external_id: str = ""
    via: AccountAccess | None = None  # the session that assumes ``role_arn`` (the master's)


@dataclass
class CallCounter:
    """AWS calls made for one job step, by operation; retries counted apart.

    It also keeps the step's clients (one per account and service, made by :func:`client`): boto3
    clients are thread-safe, and making one per call would load the service model every time.
    """

    calls: Counter = field(default_factory=Counter)
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    clients: dict = field(default_factory=dict, repr=False, compare=False)

    def record(self, operation: str, attempts: int = 1) -> None:
        with self.lock:
            self.calls[operation] += 1
            self.retries += max(0, attempts - 1)

    @property
    def reads(self) -> int:
        return sum(count for op, count in self.calls.items() if is_read(op))

    @property
    def writes(self) -> int:
        return sum(count for op, count in self.calls.items() if not is_read(op))

    def as_dict(self) -> dict:
        return {"operations": dict(sorted(self.calls.items())), "reads": self.reads, "writes": self.writes, "retries": self.retries}


def is_read(operation: str) -> bool:
    """A call that changes nothing in AWS (fetching credentials included)."""
    return operation.startswith(READ_PREFIXES) or operation in CREDENTIAL_OPERATIONS


_sessions: dict[AccountAccess, boto3.Session] = {}
# Held while a session or a client is built (botocore sessions are not thread-safe); reentrant because
# an assumed session builds the session it assumes from.
_sessions_lock = threading.RLock()
_loader: Loader | None = None

# Credentials are fetched inside another call, when it is about to be signed, by STS clients we do not
# make with :func:`client`: botocore's own for a profile's ``role_arn``, ours in ``_assumed_session``.
# Such a call crosses the wire all the same, so it is counted into the counter of the call that needed
# it: the last one this thread started through :func:`client`.
_calling = threading.local()


def _counter_of_this_thread() -> CallCounter | None:
    return getattr(_calling, "counter", None)


def _count_credential_call(model, **kwargs) -> None:
    counter = _counter_of_this_thread()
    if counter is not None:
        counter.record(model.name)


def _count_credential_retry(attempts=None, **kwargs) -> None:
    counter = _counter_of_this_thread()
    if counter is not None and attempts and attempts > 1:
        with counter.lock:
            counter.retries += 1


def _count_credential_calls(session: boto3.Session) -> boto3.Session:
    """Count the credential calls of every client ``session`` makes from now on (botocore copies a
    session's event handlers into each new client, its own credential fetchers' included)."""
    for operation in CREDENTIAL_OPERATIONS:
        session.events.register(f"before-call.sts.{operation}", _count_credential_call)
        session.events.register(f"needs-retry.sts.{operation}", _count_credential_retry)
    return session


def reset_session_cache() -> None:
    """Forget cached sessions (after the fake AWS is reset, or in tests)."""
    with _sessions_lock:
        _sessions.clear()


@dataclass(frozen=True)
class CallLimits:
    connect_timeout: float
    read_timeout: float
    max_attempts: int


def call_limits() -> CallLimits:
    """The bounds every AWS call gets, from the Django settings when there are any."""
    from django.conf import settings

    def setting(name, default):
        return getattr(settings, name, default) if settings.configured else default

    return CallLimits(
        connect_timeout=float(setting("ROLEMODEL_AWS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)),
        read_timeout=float(setting("ROLEMODEL_AWS_READ_TIMEOUT", DEFAULT_READ_TIMEOUT)),
        max_attempts=max(1, int(setting("ROLEMODEL_AWS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))),
    )


def _client_config() -> Config:
    limits = call_limits()
    return Config(
        retries={"mode": "adaptive", "max_attempts": limits.max_attempts},
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
    )


class _SearchPaths(list):
    """A loader's folders, each kept once: every boto3 session adds its own data folder to its loader."""

    def append(self, path) -> None:
        if path not in self:
            super().append(path)


def _new_botocore_session():
    """A botocore session that shares the process's one loader: a session of its own would read and
    parse the service descriptions (JSON, megabytes) again, for every account, in every job step."""
    global _loader
    session = get_session()
    if _loader is None:
        data_path = session.get_config_variable("data_path") or ""
        _loader = Loader(extra_search_paths=_SearchPaths(
            os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep) if path))
    session.register_component("data_loader", _loader)
    return session


def _new_session(*, profile: str = "", region: str) -> boto3.Session:
    session = boto3.Session(botocore_session=_new_botocore_session(), profile_name=profile or None, region_name=region)
    return _count_credential_calls(session)


def _assumed_session(access: AccountAccess) -> boto3.Session:
    source = session_for(access.via) if access.via else _new_session(region=access.region)
    sts = source.client("sts", config=_client_config())

    def refresh():
        params = {"RoleArn": access.role_arn, "RoleSessionName": SESSION_NAME, "DurationSeconds": 3600}
        if access.external_id:
            params["ExternalId"] = access.external_id
        credentials = _call(sts, "assume_role", access.label, **params)["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    botocore_session = _new_botocore_session()
    botocore_session._credentials = DeferredRefreshableCredentials(refresh_using=refresh, method="rolemodel-assume-role")
    return boto3.Session(botocore_session=botocore_session, region_name=access.region)


def session_for(access: AccountAccess) -> boto3.Session:
    with _sessions_lock:
        cached = _sessions.get(access)
        if cached is None:
            cached = _sessions[access] = _assumed_session(access) if access.role_arn else _new_session(
                profile=access.profile, region=access.region)
        return cached


def client(access: AccountAccess, service: str, counter: CallCounter | None):
    """A boto3 client for ``service`` in the account, whose calls are counted into ``counter``."""
    with _sessions_lock:  # one client per step, account and service, also when threads ask at once
        kept = counter.clients.get((access, service)) if counter is not None else None
        return kept if kept is not None else _new_client(access, service, counter)


def _new_client(access: AccountAccess, service: str, counter: CallCounter | None):
    try:
        aws_client = session_for(access).client(service, config=_client_config())
    except botocore.exceptions.BotoCoreError as error:
        raise AwsError(f"{access.label}: cannot reach AWS: {error}") from None
    except botocore.exceptions.ClientError as error:
        raise _wrap(error, access.label) from None

    def remember_counter(**kwargs):
        _calling.counter = counter  # None for an uncounted client: its credential calls count nowhere

    aws_client.meta.events.register("before-call", remember_counter)
    if counter is not None:

        def count(model, context, **kwargs):
            counter.record(model.name)

        aws_client.meta.events.register("before-call", count)

        # botocore asks "needs-retry?" after every attempt with the number of attempts made so far:
        # every attempt after the first one of a call is a retry (a throttled call that succeeds on
        # its third attempt counts 2).
        def count_retry(attempts, **kwargs):
            if attempts and attempts > 1:
                with counter.lock:
                    counter.retries += 1

        aws_client.meta.events.register("needs-retry", count_retry)
    aws_client._rolemodel_label = access.label
    if counter is not None:
        with counter.lock:
            counter.clients[(access, service)] = aws_client
    return aws_client


def _wrap(error: Exception, label: str, operation: str = "") -> AwsError:
    for errors, code, what, outcome, timeout_name in (
        (NO_ANSWER_ERRORS, "NoAnswer", "AWS stopped answering", "got no answer", "read_timeout"),
        (UNREACHABLE_ERRORS, "Unreachable", "AWS could not be reached", "failed", "connect_timeout"),
    ):
        if isinstance(error, errors):
            limits = call_limits()
            return AwsError(
                f"{label}: {what}: {operation or 'the call'} {outcome} after {limits.max_attempts} attempt(s) "
                f"({timeout_name.replace('_', ' ')} {getattr(limits, timeout_name):g} s): {error}",
                code=code,
                operation=operation,
            )
    if isinstance(error, botocore.exceptions.ClientError):
        info = error.response.get("Error", {})
        operation = getattr(error, "operation_name", "")
        return AwsError(
            f"{label}: {operation} failed: {info.get('Code', 'Error')}: {info.get('Message', str(error))}",
            code=info.get("Code", ""),
            operation=operation,
            aws_message=info.get("Message", ""),
        )
    if isinstance(error, botocore.exceptions.WaiterError):
        return AwsError(f"{label}: {error}", code="WaiterError")
    return AwsError(f"{label}: {error.__class__.__name__}: {error}", code=error.__class__.__name__)


def _operation_name(aws_client, method: str) -> str:
    return aws_client.meta.method_to_api_mapping.get(method, method)


def _call(aws_client, method: str, label: str | None, **params):
    try:
        return getattr(aws_client, method)(**params)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise _wrap(error, label or getattr(aws_client, "_rolemodel_label", "AWS"), _operation_name(aws_client, method)) from None


# --- STS -------------------------------------------------------------------------------------


def caller_account_id(access: AccountAccess, counter: CallCounter | None) -> str:
    return _call(client(access, "sts", counter), "get_caller_identity", access.label)["Account"]


def account_id_from_arn(arn: str) -> str:
    """The account field of an ARN (``arn:aws:service:region:ACCOUNT:...``), or "" when there is none."""
    parts = (arn or "").split(":")
    if len(parts) > 5 and parts[0] == "arn" and len(parts[4]) == 12 and parts[4].isdigit():
        return parts[4]
    return ""


# --- CloudFormation --------------------------------------------------------------------------


@dataclass
class LiveStack:
    name: str
    status: str
    stack_id: str = ""
    parameters: dict = field(default_factory=dict)
    template: dict | None = None
    status_reason: str = ""
    # LastUpdatedTime, or CreationTime for a stack never updated (AWS then omits LastUpdatedTime), ISO 8601.
    last_updated: str = ""


def stack_template(access: AccountAccess, counter: CallCounter, *, stack_id: str) -> dict | None:
    """The template the stack was last given (GetTemplate, stage Original), parsed; None when unreadable."""
    body = _call(client(access, "cloudformation", counter), "get_template", access.label,
                 StackName=stack_id, TemplateStage="Original")["TemplateBody"]
    return body if isinstance(body, dict) else _parse_template_text(body)


def _parse_template_text(body: str) -> dict | None:
    """A template body as a mapping: JSON, or YAML with CloudFormation's short-form tags (a stack
    made from the original tool's YAML file returns its text verbatim); None when it is neither."""
    try:
        parsed = safe_json.loads(body)
    except safe_json.NonFiniteNumber:  # JSON with a number no database could store: not read as YAML either
        return None
    except ValueError:  # not JSON: a YAML template
        try:
            parsed = load_yaml(body, source="the stack's template")
        except YAMLInputError:
            return None
    return parsed if isinstance(parsed, dict) else None


def change_set_create(
    access: AccountAccess,
    counter: CallCounter,
    *,
    stack_name: str,
    change_set_name: str,
    change_set_type: str,
    template_body: str,
    parameters: dict,
    tags: dict,
) -> dict:
    """Create a change set and wait until AWS has computed it. Returns its id and listed changes."""
    cloudformation = client(access, "cloudformation", counter)
    try:
        created = _call(
            cloudformation,
            "create_change_set",
            access.label,
            StackName=stack_name,
            ChangeSetName=change_set_name,
            ChangeSetType=change_set_type,
            TemplateBody=template_body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())],
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        )
    except AwsError as error:
        # An attempt whose answer was lost (read timeout) may have created it; the retry then
        # finds it. Our change set names are unique per plan or job, so it is ours.
        if error.code not in ("AlreadyExistsException", "AlreadyExists"):
            raise
        existing = _call(cloudformation, "describe_change_set", access.label, ChangeSetName=change_set_name, StackName=stack_name)
        created = {"Id": existing["ChangeSetId"], "StackId": existing.get("StackId", "")}
    change_set_id = created["Id"]
    described = _wait_change_set(cloudformation, access.label, change_set_id)
    return {
        "id": change_set_id,
        "stack_id": created.get("StackId", ""),
        "status": described.get("Status", ""),
        "reason": described.get("StatusReason", ""),
        "changes": [
            {
                "action": change["ResourceChange"].get("Action", ""),
                "logical_id": change["ResourceChange"].get("LogicalResourceId", ""),
                "type": change["ResourceChange"].get("ResourceType", ""),
                "replacement": change["ResourceChange"].get("Replacement", ""),
            }
            for change in described.get("Changes", [])
            if "ResourceChange" in change
        ],
    }


CHANGE_SET_FIRST_DELAY = 0.1  # AWS computes a small change set in a second or two
CHANGE_SET_MAX_DELAY = 5.0
STACK_FIRST_DELAY = 0.25
STACK_MAX_DELAY = 15.0


def poll_delays(*, first: float, cap: float) -> Iterator[float]:
    """The pauses between polls: ``first``, then each twice the one before, up to ``cap``."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


def poll_until(check: Callable[[], tuple[bool, object]], *, timeout: float, first_delay: float, max_delay: float,
               sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
    """Call ``check`` (which answers ``(finished, value)``) until it says finished, pausing between calls
    as :func:`poll_delays` says, never past ``timeout`` seconds: the last call is made at the deadline.
    Returns the last answer, finished or not."""
    deadline = clock() + timeout
    for delay in poll_delays(first=first_delay, cap=max_delay):
        finished, value = check()
        remaining = deadline - clock()
        if finished or remaining <= 0:
            return finished, value
        sleep(min(delay, remaining))


def _wait_change_set(cloudformation, label: str, change_set_id: str, *, timeout: float = 300,
                     sleep: Callable[[float], None] = time.sleep) -> dict:
    def check():
        described = _call(cloudformation, "describe_change_set", label, ChangeSetName=change_set_id)
        return described.get("Status", "") in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED"), described

    finished, described = poll_until(check, timeout=timeout, first_delay=CHANGE_SET_FIRST_DELAY,
                                      max_delay=CHANGE_SET_MAX_DELAY, sleep=sleep)
    status = described.get("Status", "")
    if not finished:
        raise AwsError(f"{label}: the change set was not ready after {timeout:.0f} s (status {status}).", code="Timeout")
    if status == "FAILED":
        raise AwsError(f"{label}: the change set failed: {described.get('StatusReason', 'no reason given')}", code="ChangeSetFailed")
    return described


def change_set_delete(access: AccountAccess, counter: CallCounter, *, change_set_id: str) -> None:
    try:
        _call(client(access, "cloudformation", counter), "delete_change_set", access.label, ChangeSetName=change_set_id)
    except AwsError as error:
        if not is_missing_change_set(error):
            raise


def change_set_status(access: AccountAccess, counter: CallCounter, *, change_set_id: str) -> tuple[str, str]:
    described = _call(client(access, "cloudformation", counter), "describe_change_set", access.label, ChangeSetName=change_set_id)
    return described.get("ExecutionStatus", ""), described.get("Status", "")


def stack_delete_if_under_review(access: AccountAccess, counter: CallCounter, *, stack_name: str) -> bool:
    """Delete a stack that only CREATE change sets made (``REVIEW_IN_PROGRESS``) once none of them is
    left: a newer plan's change set on the same stack keeps it. True when it was deleted."""
    live = stack_status(access, counter, stack_name=stack_name)
    if live is None or live.status != "REVIEW_IN_PROGRESS":
        return False
    cloudformation = client(access, "cloudformation", counter)
    try:
        for page in cloudformation.get_paginator("list_change_sets").paginate(StackName=stack_name):
            if any(summary.get("StackId", live.stack_id) == live.stack_id for summary in page["Summaries"]):
                return False
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise _wrap(error, access.label, "ListChangeSets") from None
    _call(cloudformation, "delete_stack", access.label, StackName=stack_name)
    return True


def change_set_execute(access: AccountAccess, counter: CallCounter, *, change_set_id: str) -> None:
    """Execute a change set once. An attempt whose answer was lost may have started it: then the
    retry is refused with InvalidChangeSetStatus while the change set is executing or executed,
    which is success for us."""
    try:
        _call(client(access, "cloudformation", counter), "execute_change_set", access.label, ChangeSetName=change_set_id)
    except AwsError as error:
        if error.code != "InvalidChangeSetStatus":
            raise
        execution_status, _ = change_set_status(access, counter, change_set_id=change_set_id)
        if execution_status not in ("EXECUTE_IN_PROGRESS", "EXECUTE_COMPLETE"):
            raise


def stack_delete(access: AccountAccess, counter: CallCounter, *, stack_name: str) -> None:
    _call(client(access, "cloudformation", counter), "delete_stack", access.label, StackName=stack_name)


def stack_status(access: AccountAccess, counter: CallCounter, *, stack_name: str) -> LiveStack | None:
    """The stack as DescribeStacks shows it (no template), or None when there is no stack."""
    try:
        stacks = _call(client(access, "cloudformation", counter), "describe_stacks", access.label, StackName=stack_name)["Stacks"]
    except AwsError as error:
        if is_missing_stack(error):
            return None
        raise
    if not stacks:
        return None
    raw = stacks[0]
    return LiveStack(
        name=raw["StackName"],
        status=raw["StackStatus"],
        stack_id=raw.get("StackId", ""),
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in raw.get("Parameters", [])},
        status_reason=raw.get("StackStatusReason", ""),
        last_updated=_iso(raw.get("LastUpdatedTime") or raw.get("CreationTime")),
    )


def _iso(moment) -> str:
    return moment.isoformat() if hasattr(moment, "isoformat") else str(moment or "")


def stack_failure_reasons(
    access: AccountAccess, counter: CallCounter, *, stack_name: str, limit: int = 10, since=None
) -> list[str]:
    """The stack's own reasons for failing, newest first, from its events (only those at or after
    ``since``, an aware datetime, when given: older events belong to earlier operations).

    The reasons only add detail to a failure already being reported, so events that cannot be read
    give none rather than replace that failure with their own: a stack that is gone has no events
    to read; any other error is logged with its reason.
    """
    try:
        events = _call(client(access, "cloudformation", counter), "describe_stack_events", access.label, StackName=stack_name)[
            "StackEvents"
        ]
    except AwsError as error:
        if not is_missing_stack(error):
            logger.warning("%s: the events of stack %s could not be read, so its failure reasons are not shown: %s",
                           access.label, stack_name, error)
        return []
    reasons = []
    for event in events:
        if since is not None and event.get("Timestamp") is not None and event["Timestamp"] < since:
            continue
        status = event.get("ResourceStatus", "")
        if ("FAILED" in status or "ROLLBACK" in status) and event.get("ResourceStatusReason"):
            reasons.append(f"{event.get('LogicalResourceId', '')}: {status}: {event['ResourceStatusReason']}")
        if len(reasons) >= limit:
            break
    return reasons


def stack_roles(access: AccountAccess, counter: CallCounter, *, stack_name: str) -> list[dict]:
    """The IAM roles a stack holds, with their ARNs, for the original ``list`` command."""
    cloudformation = client(access, "cloudformation", counter)
    paginator = cloudformation.get_paginator("list_stack_resources")
    role_names = []
    try:
        for page in paginator.paginate(StackName=stack_name):
            for resource in page["StackResourceSummaries"]:
                if resource["ResourceType"] == "AWS::IAM::Role" and resource.get("PhysicalResourceId"):
                    role_names.append((resource["LogicalResourceId"], resource["PhysicalResourceId"]))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise _wrap(error, access.label, "ListStackResources") from None
    return [{"logical_id": logical, "role_name": physical} for logical, physical in role_names]


# --- IAM: the master's groups and users, the accounts' roles ---------------------------------


@dataclass
class LiveIam:
    groups: dict = field(default_factory=dict)  # name -> {"path", "policies": {name: document}}
    users: dict = field(default_factory=dict)  # name -> set of group names (all paths)
    account_id: str = ""  # the account the ARNs read name; "" when there was no group and no user


def iam_read(access: AccountAccess, counter: CallCounter, *, group_path: str) -> LiveIam:
    """Groups under ``group_path`` with their inline policies, and every user's groups, paginated."""
    iam = client(access, "iam", counter)
    live = LiveIam()
    try:
        for page in iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["User", "Group"], PaginationConfig={"PageSize": IAM_PAGE_SIZE}
        ):
            for group in page.get("GroupDetailList", []):
                live.account_id = live.account_id or account_id_from_arn(group.get("Arn", ""))
                if group.get("Path") == group_path:
                    live.groups[group["GroupName"]] = {
                        "path": group["Path"],
                        "policies": {p["PolicyName"]: p["PolicyDocument"] for p in group.get("GroupPolicyList", [])},
                    }
            for user in page.get("UserDetailList", []):
                live.account_id = live.account_id or account_id_from_arn(user.get("Arn", ""))
                live.users[user["UserName"]] = set(user.get("GroupList", []))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise _wrap(error, access.label, "GetAccountAuthorizationDetails") from None
    return live


@dataclass
class LiveRole:
    """One IAM role as IAM itself holds it (not as its stack says)."""

    name: str
    path: str
    arn: str
    trust: dict | str | None
    inline: dict  # policy name -> document
    managed: list  # attached managed policy ARNs, sorted
    boundary: str  # the permissions boundary's ARN, "" when there is none


def decoded_policy_document(value):
    """A policy document as a mapping. AWS sends them URL-encoded and botocore decodes them; a
    document that still arrives as text (a fake AWS, another SDK version) is decoded here."""
    if not isinstance(value, str):
        return value
    try:
        return safe_json.loads(unquote(value))
    except ValueError:
        return value


def account_roles(access: AccountAccess, counter: CallCounter) -> dict[str, LiveRole]:
    """Every role of the account with its trust policy, inline policies, attached managed policies and
    boundary: one GetAccountAuthorizationDetails (Filter Role), paginated. Keyed by role name."""
    iam = client(access, "iam", counter)
    roles = {}
    try:
        for page in iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["Role"], PaginationConfig={"PageSize": IAM_PAGE_SIZE}
        ):
            for role in page.get("RoleDetailList", []):
                roles[role["RoleName"]] = LiveRole(
                    name=role["RoleName"],
                    path=role.get("Path", "/"),
                    arn=role.get("Arn", ""),
                    trust=decoded_policy_document(role.get("AssumeRolePolicyDocument")),
                    inline={p["PolicyName"]: decoded_policy_document(p.get("PolicyDocument")) for p in role.get("RolePolicyList", [])},
                    managed=sorted(p["PolicyArn"] for p in role.get("AttachedManagedPolicies", [])),
                    boundary=(role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", ""),
                )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise _wrap(error, access.label, "GetAccountAuthorizationDetails") from None
    return roles


def group_quota(access: AccountAccess, counter: CallCounter) -> int:
    summary = _call(client(access, "iam", counter), "get_account_summary", access.label)["SummaryMap"]
    return int(summary.get("GroupsQuota", 300))


def iam_write(access: AccountAccess, counter: CallCounter, operation: str, **params) -> None:
    """One IAM write. Idempotent: an entity that already exists or is already gone is not an error."""
    try:
        _call(client(access, "iam", counter), operation, access.label, **params)
    except AwsError as error:
        already_done = (error.code == "EntityAlreadyExists" and operation == "create_group") or (
            error.code == "NoSuchEntity" and operation.startswith(("delete_", "remove_", "detach_"))
        )
        if not already_done:
            raise


def stack_wait(access: AccountAccess, counter: CallCounter, *, stack_name: str, timeout: float, on_poll=None,
               sleep: Callable[[float], None] = time.sleep) -> LiveStack | None:
    """Poll the stack with growing pauses (:func:`poll_until`) until it leaves every ``*_IN_PROGRESS`` state.

    Returns the stack in its final state, or None once it is gone (deleted). A stack still in
    progress after ``timeout`` seconds raises ``AwsError`` with code ``Timeout``.
    """

    def check():
        stack = stack_status(access, counter, stack_name=stack_name)
        finished = stack is None or not stack.status.endswith("_IN_PROGRESS") or stack.status == "REVIEW_IN_PROGRESS"
        if not finished and on_poll is not None:
            on_poll(stack)
        return finished, stack

    finished, stack = poll_until(check, timeout=timeout, first_delay=STACK_FIRST_DELAY, max_delay=STACK_MAX_DELAY,
                                 sleep=sleep)
    if not finished:
        reason = f" ({stack.status_reason})" if stack.status_reason else ""
        raise AwsError(
            f"{access.label}: stack {stack_name} was still {stack.status}{reason} after {timeout:g} s.", code="Timeout"
        )
    return stack
