"""Role repairs: the IAM writes that undo edits made to a stack's roles in IAM, outside CloudFormation.

A role edited directly in IAM (an inline policy put or changed, a managed policy attached, the trust
policy or the permissions boundary changed) is invisible to CloudFormation: the stack's template still
says the old thing and a change set finds nothing to do. So, for each account where a drift check
left an open finding about a role, the plan reads the account's roles from IAM itself and carries,
per difference from the desired template, the one IAM write that makes the role match it again.

What the stack change itself writes is left to it: an inline policy, managed policy, trust policy or
boundary whose template value changes between the deployed and the desired template is written by
CloudFormation during the update, so it is no repair. Roles the stack does not hold yet, roles the
update replaces (a new name or path) and values that cannot be resolved without AWS are left alone.

:func:`compare` is pure; :func:`plan_role_repairs` (planner) and :func:`apply_role_repairs` (the
account's apply step) do the reading and writing, through ``integrations.aws``.
"""
import json
from dataclasses import asdict

from core.cfn_intrinsics import UNRESOLVED, resolve_text
from drift.models import DriftFinding
from integrations import aws, parallel
from accounts import stack_records
from accounts.access import account_access
from core import normalize
from plans import diff, targets
from plans.document import MASTER_PARAMETER, RoleRepair, StackAction
from roles.template_roles import ROLE, template_role

EDITED_OUTSIDE = "edited in IAM outside CloudFormation"
TRUST_POLICY = "trust policy"
# Accounts whose stack stays (or is only updated): a stack created, deleted or recreated makes its roles anew.
REPAIRABLE_ACTIONS = (StackAction.NONE, StackAction.UPDATE)
# The order the writes are made in: what narrows access first, what grants last.
OPERATION_ORDER = ("UpdateAssumeRolePolicy", "DetachRolePolicy", "DeleteRolePolicy", "PutRolePermissionsBoundary",
                   "PutRolePolicy", "AttachRolePolicy", "DeleteRolePermissionsBoundary")


# --- what a template says a role is -------------------------------------------------------------


def _same_identity(template, logical_id: str, *, physical: str, live_path: str, variables: dict) -> bool:
    """Whether the desired template keeps the role under its live name and path (else the update replaces it)."""
    properties = template["Resources"][logical_id].get("Properties") or {}
    if "RoleName" in properties and resolve_text(properties["RoleName"], variables) != physical:
        return False
    return resolve_text(properties.get("Path", "/"), variables) == live_path


# --- the comparison -----------------------------------------------------------------------------


def _repair(*, logical_id: str, role_name: str, kind: str, operation: str, action: str, subject: str, live, wanted,
            description: str) -> RoleRepair:
    documents = isinstance(live, dict) or isinstance(wanted, dict)  # an ARN is said in the description instead
    return {
        "logical_id": logical_id, "role_name": role_name, "kind": kind, "operation": operation, "action": action,
        "subject": subject, "live": live, "wanted": wanted,
        "diff": diff.unified_diff(live, wanted, name=f"{role_name} {subject}") if documents else "",
        "description": f"{description} ({EDITED_OUTSIDE})",
    }


def _resolved(*values) -> bool:
    return all(value is not UNRESOLVED for value in values)


def _trust_repairs(common: dict, live: dict, wanted: dict, deployed: dict) -> list[RoleRepair]:
    if not _resolved(wanted["trust"], deployed["trust"]) or not normalize.same_policy(wanted["trust"], deployed["trust"]):
        return []
    if normalize.same_policy(live["trust"], wanted["trust"]):
        return []
    return [_repair(**common, kind=DriftFinding.Kind.ROLE_TRUST_POLICY, operation="UpdateAssumeRolePolicy",
                    action="change", subject=TRUST_POLICY, live=live["trust"], wanted=wanted["trust"],
                    description="Restore the trust policy the template gives")]


def _inline_repairs(common: dict, live: dict, wanted: dict, deployed: dict) -> list[RoleRepair]:
    if not _resolved(wanted["inline"], deployed["inline"]):
        return []
    repairs = []
    for name in sorted(set(wanted["inline"]) | set(live["inline"])):
        want, was, have = wanted["inline"].get(name), deployed["inline"].get(name), live["inline"].get(name)
        if not _resolved(want, was):
            continue
        if (want is None) != (was is None) or (want is not None and not normalize.same_policy(want, was)):
            continue  # the stack change writes this policy itself
        if want is None:
            repairs.append(_repair(**common, kind=DriftFinding.Kind.ROLE_INLINE_POLICY, operation="DeleteRolePolicy",
                                   action="remove", subject=name, live=have, wanted=None,
                                   description=f"Delete inline policy {name}, which the template does not have"))
        elif have is None or not normalize.same_policy(have, want):
            repairs.append(_repair(**common, kind=DriftFinding.Kind.ROLE_INLINE_POLICY, operation="PutRolePolicy",
                                   action="add" if have is None else "change", subject=name, live=have, wanted=want,
                                   description=f"Put inline policy {name} back as the template has it"))
    return repairs


def _managed_repairs(common: dict, live: dict, wanted: dict, deployed: dict) -> list[RoleRepair]:
    if not _resolved(wanted["managed"], deployed["managed"]):
        return []
    repairs = []
    have = set(live["managed"])
    for arn in sorted(wanted["managed"] | have):
        want = arn in wanted["managed"]
        if want != (arn in deployed["managed"]) or want == (arn in have):
            continue  # the stack change attaches or detaches it itself, or it is as wanted
        if want:
            repairs.append(_repair(**common, kind=DriftFinding.Kind.ROLE_MANAGED_POLICY, operation="AttachRolePolicy",
                                   action="add", subject=arn, live=None, wanted=arn,
                                   description=f"Attach managed policy {arn} again, as the template has it"))
        else:
            repairs.append(_repair(**common, kind=DriftFinding.Kind.ROLE_MANAGED_POLICY, operation="DetachRolePolicy",
                                   action="remove", subject=arn, live=arn, wanted=None,
                                   description=f"Detach managed policy {arn}, which the template does not attach"))
    return repairs


def _boundary_repairs(common: dict, live: dict, wanted: dict, deployed: dict) -> list[RoleRepair]:
    want, was, have = wanted["boundary"], deployed["boundary"], live["boundary"] or ""
    if not _resolved(want, was) or want != was or want == have:
        return []
    if want:
        return [_repair(**common, kind=DriftFinding.Kind.ROLE_BOUNDARY, operation="PutRolePermissionsBoundary",
                        action="add" if not have else "change", subject="permissions boundary", live=have or None,
                        wanted=want, description=f"Set the permissions boundary {want} the template gives")]
    return [_repair(**common, kind=DriftFinding.Kind.ROLE_BOUNDARY, operation="DeleteRolePermissionsBoundary",
                    action="remove", subject="permissions boundary", live=have, wanted=None,
                    description="Remove the permissions boundary, which the template does not set")]


def compare(*, wanted_template: dict, deployed_template: dict, role_names: dict, iam_roles: dict,
            wanted_variables: dict, deployed_variables: dict) -> list[RoleRepair]:
    """The repairs that make each role the stack holds match ``wanted_template`` again.

    ``role_names``: logical id -> physical name (the stack's roles); ``iam_roles``: what
    ``aws.account_roles`` returned (as plain dicts); the variables resolve ``Ref``/``Fn::Join``/``Fn::Sub`` in each
    template (parameters and pseudo parameters of the stack as deployed, and as the plan makes it).
    """
    repairs = []
    resources = wanted_template.get("Resources") if isinstance(wanted_template, dict) else None
    for logical_id in sorted(resources or {}):
        physical = role_names.get(logical_id, "")
        live = iam_roles.get(physical) if physical else None
        if live is None or not isinstance(resources[logical_id], dict) or resources[logical_id].get("Type") != ROLE:
            continue  # the stack does not hold it (yet), or it is gone from IAM: the stack is the one to fix
        # ``Ref`` of a role is its name: a policy resource names its roles so.
        wanted = template_role(wanted_template, logical_id, physical=physical, variables={**role_names, **wanted_variables})
        deployed = template_role(deployed_template, logical_id, physical=physical,
                                 variables={**role_names, **deployed_variables})
        if deployed is None or not _same_identity(wanted_template, logical_id, physical=physical, live_path=live["path"],
                                                  variables=wanted_variables):
            continue
        common = {"logical_id": logical_id, "role_name": physical}
        for repairs_of in (_trust_repairs, _inline_repairs, _managed_repairs, _boundary_repairs):
            repairs += repairs_of(common, live, wanted, deployed)
    return sorted(repairs, key=lambda r: (r["role_name"], OPERATION_ORDER.index(r["operation"]), r["subject"]))


def template_variables(*, master_id: str, account_id: str, region: str, stack_name: str, stack_id: str,
                       partition: str = "aws") -> dict:
    """What ``Ref`` and ``${…}`` may name in a role's template: its parameter and the pseudo parameters."""
    return {MASTER_PARAMETER: master_id, "AWS::AccountId": account_id, "AWS::Region": region,
            "AWS::StackName": stack_name, "AWS::StackId": stack_id, "AWS::Partition": partition,
            "AWS::URLSuffix": "amazonaws.com"}


# --- the writes ---------------------------------------------------------------------------------


def _document_text(document) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def repair_call(repair: RoleRepair) -> tuple[str, dict]:
    """The boto3 IAM method and parameters of one repair."""
    role, subject, operation = repair["role_name"], repair["subject"], repair["operation"]
    return {
        "PutRolePolicy": lambda: ("put_role_policy", {"RoleName": role, "PolicyName": subject,
                                                      "PolicyDocument": _document_text(repair["wanted"])}),
        "DeleteRolePolicy": lambda: ("delete_role_policy", {"RoleName": role, "PolicyName": subject}),
        "AttachRolePolicy": lambda: ("attach_role_policy", {"RoleName": role, "PolicyArn": subject}),
        "DetachRolePolicy": lambda: ("detach_role_policy", {"RoleName": role, "PolicyArn": subject}),
        "UpdateAssumeRolePolicy": lambda: ("update_assume_role_policy", {"RoleName": role,
                                                                         "PolicyDocument": _document_text(repair["wanted"])}),
        "PutRolePermissionsBoundary": lambda: ("put_role_permissions_boundary", {"RoleName": role,
                                                                                 "PermissionsBoundary": repair["wanted"]}),
        "DeleteRolePermissionsBoundary": lambda: ("delete_role_permissions_boundary", {"RoleName": role}),
    }[operation]()


def apply_role_repairs(access: aws.AccountAccess, counter: aws.CallCounter, repairs: list[RoleRepair], *,
                       before_each, log) -> None:
    """Make each repair's IAM write, in the plan's order. ``before_each()`` runs before every write (the
    job's beat), ``log(message)`` records it. Writing twice is harmless: a put, attach or trust update
    sets the same value again, and a policy already deleted or detached is not an error."""
    for repair in repairs:
        method, parameters = repair_call(repair)
        before_each()
        aws.iam_write(access, counter, method, **parameters)
        log(f"{repair['operation']} on role {repair['role_name']}: {repair['description']}")


# --- the planner's part -------------------------------------------------------------------------


def accounts_with_open_role_findings(account_pks) -> set[int]:
    return set(DriftFinding.objects.filter(account_id__in=list(account_pks), kind__in=DriftFinding.ROLE_KINDS,
                                           closed_at__isnull=True).values_list("account_id", flat=True))


def plan_role_repairs(account_plans: list, *, accounts_by_name: dict, live_stacks: dict, master_model, counters: dict,
                      log) -> None:
    """Add ``role_repairs`` to each account plan whose account has an open role finding.

    Only those accounts' roles are read (one paginated GetAccountAuthorizationDetails each, in
    parallel): a plan of accounts without such findings makes no call more. The stack's role names
    come from the account's stack record, which the plan's stack read has just brought up to date;
    ``log(account name, message)`` writes the account step's log.
    """
    with_findings = accounts_with_open_role_findings(account.pk for account in accounts_by_name.values())
    candidates = [(account_plan, accounts_by_name[account_plan["name"]], live_stacks.get(account_plan["name"]))
                  for account_plan in account_plans
                  if account_plan["name"] in accounts_by_name and accounts_by_name[account_plan["name"]].pk in with_findings
                  and account_plan["action"] in REPAIRABLE_ACTIONS and not account_plan["blocks"]]
    candidates = [(plan, account, live) for plan, account, live in candidates if live is not None and live.template]
    if not candidates:
        return
    stack_name = master_model.stack_name
    records = stack_records.records_for([account for _, account, _ in candidates], stack_name=stack_name)
    todo = [(plan, account, live, records[account.pk]) for plan, account, live in candidates if account.pk in records]

    def read(account):
        return {name: asdict(role) for name, role in aws.account_roles(account_access(account, master_model),
                                                                   counters[account.name]).items()}

    iam_by_account = parallel.run_all({account.name: (lambda account=account: read(account)) for _, account, _, _ in todo},
                                      limit=parallel.read_concurrency())
    for account_plan, account, live, record in todo:
        iam_roles = iam_by_account[account.name]
        _ensure_planned_account(account_plan, iam_roles)
        repairs = compare(
            wanted_template=account_plan["template"], deployed_template=live.template, role_names=record.role_names or {},
            iam_roles=iam_roles,
            wanted_variables=_variables(account_plan, live, master_id=account_plan["parameters"][MASTER_PARAMETER],
                                        stack_name=stack_name),
            deployed_variables=_variables(account_plan, live, master_id=live.parameters.get(MASTER_PARAMETER, ""),
                                          stack_name=stack_name),
        )
        log(account.name, f"Read the account's {len(iam_roles)} IAM role(s), as drift found roles edited in IAM: "
                          f"{len(repairs)} role repair(s) to make")
        if repairs:
            account_plan["role_repairs"] = repairs


def _variables(account_plan: dict, live: aws.LiveStack, *, master_id: str, stack_name: str) -> dict:
    partition = live.stack_id.split(":")[1] if live.stack_id.count(":") >= 5 else "aws"
    region = live.stack_id.split(":")[3] if live.stack_id.count(":") >= 5 else ""
    return template_variables(master_id=master_id, account_id=account_plan["account_id"], region=region,
                              stack_name=stack_name, stack_id=live.stack_id, partition=partition)


def _ensure_planned_account(account_plan: dict, iam_roles: dict) -> None:
    """The roles read must be the planned account's: their ARNs say where the read went (the stack's
    id was checked already, so an account without roles needs no other check)."""
    reached = next((aws.account_id_from_arn(role["arn"]) for role in iam_roles.values() if role["arn"]), "")
    problem = reached and targets.mismatch(label=account_plan["name"], reached=reached,
                                           expected=account_plan["account_id"], outcome="nothing was planned",
                                           expected_as="the console records it as")
    if problem:
        raise targets.WrongAccount(problem)
