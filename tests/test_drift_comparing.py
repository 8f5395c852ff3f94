"""The comparison of live, last applied and desired state (drift/comparing.py), without AWS: each kind
of finding, whether it widens, and the changes that are pending rather than drift."""
import pytest

from drift import comparing
from drift.models import DriftFinding
from integrations.aws import LiveIam, LiveRole, LiveStack

Kind = DriftFinding.Kind
ASSUME = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                  "Resource": "arn:aws:iam::222222222222:role/Admin"}]}
ASSUME_ANY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}


def group(members, policy=ASSUME, account="prod") -> dict:
    return {"account": account, "policy_name": "prod.Admin-Policy", "policy": policy, "members": sorted(members)}


def live_iam(members=("alice",), policies=None, extra_groups=()) -> LiveIam:
    live = LiveIam(groups={"prod.Admin": {"path": "/RoleModel/",
                                          "policies": policies if policies is not None else {"prod.Admin-Policy": ASSUME}}})
    for name in extra_groups:
        live.groups[name] = {"path": "/RoleModel/", "policies": {}}
    for user in members:
        live.users.setdefault(user, set()).add("prod.Admin")
    return live


def kinds(found) -> list[tuple]:
    return sorted((seen.kind, seen.target, seen.aspect, seen.widens) for seen in found)


def master(live, *, applied, desired, skipped=()):
    return comparing.master_findings(live=live, applied=applied, desired=desired, skipped_accounts=set(skipped))


def test_live_as_applied_and_desired_is_no_drift():
    assert master(live_iam(), applied={"prod.Admin": group(["alice"])}, desired={"prod.Admin": group(["alice"])}) == []


def test_members_added_and_removed_by_hand():
    found = master(live_iam(members=("bob",)), applied={"prod.Admin": group(["alice"])}, desired={"prod.Admin": group(["alice"])})
    assert kinds(found) == [(Kind.MEMBER_ADDED, "prod.Admin", "bob", True), (Kind.MEMBER_REMOVED, "prod.Admin", "alice", False)]


@pytest.mark.parametrize("live, applied, desired", [
    (("alice",), ["alice"], []),  # revoked in the console, not applied yet
    ((), ["alice"], []),  # revoked in the console and removed by hand early: live agrees with desired
    ((), [], ["alice"]),  # granted in the console, not applied yet
    (("alice",), [], ["alice"]),  # granted, and added by hand early
], ids=["pending revocation", "early removal", "pending grant", "early addition"])
def test_changes_pending_in_the_console_are_not_drift(live, applied, desired):
    assert master(live_iam(members=live), applied={"prod.Admin": group(applied)}, desired={"prod.Admin": group(desired)}) == []


def test_a_group_added_in_the_console_and_not_applied_yet_is_pending():
    desired = {"prod.Admin": group(["alice"]), "prod.New": {**group(["bob"]), "policy_name": "prod.New-Policy"}}
    assert master(live_iam(), applied={"prod.Admin": group(["alice"])}, desired=desired) == []


def test_a_group_deleted_by_hand_loses_its_members_and_policy():
    found = master(LiveIam(), applied={"prod.Admin": group(["alice"])}, desired={"prod.Admin": group(["alice"])})
    assert kinds(found) == [(Kind.GROUP_POLICY, "prod.Admin", "prod.Admin-Policy", False),
                            (Kind.MEMBER_REMOVED, "prod.Admin", "alice", False)]


def test_before_anything_was_applied_what_aws_holds_beyond_the_desired_state_is_drift():
    found = master(live_iam(members=("bob",), extra_groups=("prod.Shadow",)), applied=None,
                   desired={"prod.Admin": group(["alice"]), "prod.New": {**group(["carol"]), "policy_name": "prod.New-Policy"}})
    assert kinds(found) == [(Kind.MEMBER_ADDED, "prod.Admin", "bob", True), (Kind.UNKNOWN_GROUP, "prod.Shadow", "", True)]
    assert stacks(None, applied=None) == []  # not deployed yet


@pytest.mark.parametrize("policies, widens", [
    ({"prod.Admin-Policy": ASSUME_ANY}, True),
    ({"prod.Admin-Policy": {"Version": "2012-10-17", "Statement": []}}, False),
    ({}, False),
    ({"prod.Admin-Policy": ASSUME, "Extra": ASSUME_ANY}, True),
], ids=["widened", "emptied", "deleted", "one added"])
def test_group_policies_edited_by_hand(policies, widens):
    found = master(live_iam(policies=policies), applied={"prod.Admin": group(["alice"])}, desired={"prod.Admin": group(["alice"])})
    assert [(seen.kind, seen.widens) for seen in found] == [(Kind.GROUP_POLICY, widens)]


def test_a_policy_written_differently_but_meaning_the_same_is_no_drift():
    same = {"Statement": {"Effect": "Allow", "Action": ["STS:AssumeRole"], "Resource": ["arn:aws:iam::222222222222:role/Admin"]},
            "Version": "2012-10-17"}
    assert master(live_iam(policies={"prod.Admin-Policy": same}), applied=None, desired={"prod.Admin": group(["alice"])}) == []


def test_unknown_groups_widen_but_groups_of_disabled_accounts_and_pending_removals_do_not_count():
    live = live_iam(extra_groups=("prod.Shadow", "old.Admin", "prod.Gone"))
    found = master(live, applied={"prod.Admin": group(["alice"]), "prod.Gone": group([])},
                   desired={"prod.Admin": group(["alice"])}, skipped=("old",))
    assert kinds(found) == [(Kind.UNKNOWN_GROUP, "prod.Shadow", "", True)]


TEMPLATE = {
    "Parameters": {"AssumingAccountID": {"Type": "String"}},
    "Resources": {
        "Admin": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "Admin", "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "PermissionsBoundary": "arn:aws:iam::aws:policy/PowerUserAccess",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"AWS": {"Fn::Join": [":", ["arn", "aws", "iam", "", {"Ref": "AssumingAccountID"}, "root"]]}}}]}}},
        "AdminS3Policy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "S3", "Roles": [{"Ref": "Admin"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}},
        "Kept": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Fn::Sub": "not resolved"}}},
    },
}


def expected_roles():
    return comparing.roles_in_template(TEMPLATE, parameters={"AssumingAccountID": "111111111111"},
                                       role_names={"Kept": "Stack-Kept-ABC"}, account_id="222222222222", region="us-east-1")


def live_admin(**changes) -> LiveRole:
    role = expected_roles()[0]
    fields = {"name": "Admin", "path": "/", "arn": "arn:aws:iam::222222222222:role/Admin", "trust": role.trust,
              "inline": dict(role.inline), "managed": list(role.managed), "boundary": role.boundary}
    return LiveRole(**{**fields, **changes})


def test_the_template_is_resolved_as_cloudformation_resolves_it():
    admin, kept = expected_roles()
    assert admin.trust["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::111111111111:root"
    assert set(admin.inline) == {"S3"} and kept.name == "Stack-Kept-ABC"


def role_findings(**changes):
    return kinds(comparing.role_findings(account="prod", expected_roles=expected_roles()[:1], live_roles={"Admin": live_admin(**changes)}))


def test_a_role_as_its_stack_says_is_no_drift():
    assert role_findings() == []


@pytest.mark.parametrize("changes, expected", [
    ({"managed": ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"]},
     [(Kind.ROLE_MANAGED_POLICY, "Admin/arn:aws:iam::aws:policy/AdministratorAccess", "", True)]),
    ({"managed": []}, [(Kind.ROLE_MANAGED_POLICY, "Admin/arn:aws:iam::aws:policy/ReadOnlyAccess", "", False)]),
    ({"boundary": ""}, [(Kind.ROLE_BOUNDARY, "Admin", "", True)]),
    ({"boundary": "arn:aws:iam::aws:policy/AdministratorAccess"}, [(Kind.ROLE_BOUNDARY, "Admin", "", True)]),
    ({"inline": {}}, [(Kind.ROLE_INLINE_POLICY, "Admin/S3", "", False)]),
    ({"inline": {"S3": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}},
     [(Kind.ROLE_INLINE_POLICY, "Admin/S3", "", True)]),
    ({"trust": ASSUME_ANY}, [(Kind.ROLE_TRUST_POLICY, "Admin", "", True)]),
], ids=["managed attached", "managed detached", "boundary removed", "boundary replaced", "inline removed", "inline widened",
        "trust replaced"])
def test_role_edits_made_in_iam(changes, expected):
    assert role_findings(**changes) == expected


def test_a_role_edit_in_iam_that_the_console_wants_now_is_pending_not_drift():
    widened = ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    desired = expected_roles()[:1]
    desired[0].managed = widened  # adopted, or edited in the console: the next plan writes it into the stack
    found = comparing.role_findings(account="prod", expected_roles=expected_roles()[:1], desired_roles=desired,
                                    live_roles={"Admin": live_admin(managed=widened, boundary="")})
    assert kinds(found) == [(Kind.ROLE_BOUNDARY, "Admin", "", True)]


def test_a_role_missing_from_iam_is_a_stack_finding():
    found = comparing.role_findings(account="prod", expected_roles=expected_roles()[:1], live_roles={})
    assert kinds(found) == [(Kind.STACK_CHANGED, "Admin", "role", False)]


WANTED = {"Resources": {"Admin": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "Admin"}}}}
CHANGED = {"Resources": {"Admin": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "Admin", "MaxSessionDuration": 7200}}}}


def stack(template, status="UPDATE_COMPLETE", reason="") -> LiveStack:
    return LiveStack(name="RoleModel", status=status, stack_id="arn:aws:cloudformation:us-east-1:222222222222:stack/RoleModel/x",
                     template=template, status_reason=reason)


def stacks(live, applied=None, desired=WANTED):
    return kinds(comparing.stack_findings(account="prod", stack_name="RoleModel", live=live, applied=applied, desired=desired))


def test_stacks_updated_deleted_or_failed_outside_the_console():
    assert stacks(stack(WANTED), applied=WANTED) == []
    assert stacks(stack(CHANGED), applied=WANTED) == [(Kind.STACK_CHANGED, "RoleModel", "template", True)]
    assert stacks(None, applied=WANTED) == [(Kind.STACK_DELETED, "RoleModel", "", False)]
    assert stacks(stack(WANTED, status="UPDATE_ROLLBACK_COMPLETE"), applied=WANTED) == [
        (Kind.STACK_CHANGED, "RoleModel", "status", True)]
    assert stacks(stack(CHANGED, status="UPDATE_IN_PROGRESS"), applied=WANTED) == []  # an apply may be running


def test_a_stack_change_pending_in_the_console_is_not_drift():
    assert stacks(stack(WANTED), applied=WANTED, desired=CHANGED) == []  # roles edited, not applied yet
    assert stacks(None, applied=None, desired=WANTED) == []  # an account added, not applied yet


@pytest.mark.parametrize("live, expected, widens", [
    (None, ASSUME, False), (ASSUME, None, True), (ASSUME_ANY, ASSUME, True),
    ({"Version": "2012-10-17", "Statement": []}, ASSUME, False)])
def test_widening_is_judged_by_the_statements(live, expected, widens):
    assert comparing.policy_widens(live, expected) is widens


def test_what_only_aws_knows_is_not_compared():
    # A trust policy naming another resource's attribute, and a policy resource attached under an ARN
    # CloudFormation makes up: the template cannot say what IAM should hold, so neither is drift.
    template = {"Resources": {
        "Admin": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "Admin", "AssumeRolePolicyDocument": {"Fn::GetAtt": ["Other", "Arn"]}}},
        "Shared": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Roles": [{"Ref": "Admin"}], "PolicyDocument": {}}},
    }}
    [admin] = comparing.roles_in_template(template, parameters={}, role_names={}, account_id="222222222222",
                                          region="us-east-1")
    live = LiveRole(name="Admin", path="/", arn="arn:aws:iam::222222222222:role/Admin", trust=ASSUME_ANY, inline={},
                    managed=["arn:aws:iam::222222222222:policy/RoleModel-Shared-XYZ"], boundary="")
    assert comparing.role_findings(account="prod", expected_roles=[admin], live_roles={"Admin": live}) == []
