"""Role repairs, the pure part (plans/role_repairs.py): a role edited in IAM, compared by meaning with the
desired template, gives exactly the IAM writes that put it back, and nothing for what the stack change
writes itself or for what cannot be known without AWS."""
import copy

import pytest

from plans import document, role_repairs

MASTER = "111111111111"
ACCOUNT = "222222222222"
ROLE_NAME = "ReadOnlyRole"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
BOUNDARY = "arn:aws:iam::aws:policy/PowerUserAccess"
READ = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:Get*", "cloudformation:Describe*"], "Resource": "*"},
    {"Effect": "Deny", "Action": "iam:GetUser", "Resource": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:user/root"}},
]}
READ_IN_IAM = {"Version": "2012-10-17", "Statement": [
    # The same grants as READ, written otherwise: statements swapped, a list of one, actions reordered.
    {"Effect": "Deny", "Action": ["iam:GetUser"], "Resource": f"arn:aws:iam::{ACCOUNT}:user/root"},
    {"Effect": "Allow", "Action": ["cloudformation:Describe*", "iam:Get*"], "Resource": ["*"]},
]}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def template(*, policies=None, managed=(), boundary="", mfa=True, role_name=None, path="/") -> dict:
    """A template of the console's shape: the role, and one AWS::IAM::Policy resource per inline policy."""
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"AWS": {"Fn::Join": [":", ["arn", "aws", "iam", "", {"Ref": "AssumingAccountID"}, "root"]]}}}
    if mfa:
        statement["Condition"] = {"Null": {"aws:MultiFactorAuthAge": "false"}}
    properties = {"Path": path, "MaxSessionDuration": 3600,
                  "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}
    if role_name:
        properties["RoleName"] = role_name
    if managed:
        properties["ManagedPolicyArns"] = list(managed)
    if boundary:
        properties["PermissionsBoundary"] = boundary
    resources = {"ReadOnly": {"Type": "AWS::IAM::Role", "Properties": properties}}
    for name, policy in (policies if policies is not None else {"ReadAccess": READ}).items():
        resources[f"ReadOnly{name}Policy"] = {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": name, "PolicyDocument": policy, "Roles": [{"Ref": "ReadOnly"}]}}
    return {"Parameters": {"AssumingAccountID": {"Type": "String"}}, "Resources": resources}


def trust_in_iam(*, mfa=True, principal=f"arn:aws:iam::{MASTER}:root") -> dict:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": ["sts:AssumeRole"]}
    if mfa:
        statement["Condition"] = {"Null": {"aws:MultiFactorAuthAge": False}}
    return {"Version": "2012-10-17", "Statement": statement}


def iam_role(**changes) -> dict:
    """The role as ``aws.account_roles_read`` returns it: as the template says, unless changed."""
    role = {"arn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}", "path": "/", "trust": trust_in_iam(),
            "inline": {"ReadAccess": READ_IN_IAM}, "managed": [], "boundary": ""}
    role.update(changes)
    return role


def variables(master=MASTER) -> dict:
    return role_repairs.template_variables(master_id=master, account_id=ACCOUNT, region="us-east-1",
                                           stack_name="RoleModel", stack_id=f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/RoleModel/x")


def repairs_for(live: dict, *, wanted=None, deployed=None, role_names=None) -> list[dict]:
    wanted = wanted if wanted is not None else template()
    return role_repairs.compare(
        wanted_template=wanted, deployed_template=deployed if deployed is not None else copy.deepcopy(wanted),
        role_names=role_names if role_names is not None else {"ReadOnly": ROLE_NAME}, iam_roles={ROLE_NAME: live},
        wanted_variables=variables(), deployed_variables=variables(),
    )


def summary(repairs) -> list[tuple]:
    return [(r["operation"], r["subject"], r["action"], r["kind"]) for r in repairs]


def test_a_role_as_the_template_says_by_meaning_needs_no_repair():
    # Statements reordered, lists of one, false for "false", the principal and ${AWS::AccountId} resolved.
    assert repairs_for(iam_role()) == []


def test_an_inline_policy_added_in_iam_is_deleted():
    repairs = repairs_for(iam_role(inline={"ReadAccess": READ_IN_IAM, "Extra": EVERYTHING}))

    assert summary(repairs) == [("DeleteRolePolicy", "Extra", "remove", "role_inline_policy")]
    assert repairs[0]["live"] == EVERYTHING and repairs[0]["wanted"] is None
    assert repairs[0]["description"] == ("Delete inline policy Extra, which the template does not have "
                                         "(edited in IAM outside CloudFormation)")
    assert '-  "Statement": [' in repairs[0]["diff"]


def test_an_inline_policy_changed_or_deleted_in_iam_is_put_back_resolved():
    changed = repairs_for(iam_role(inline={"ReadAccess": EVERYTHING}))
    deleted = repairs_for(iam_role(inline={}))

    assert summary(changed) == [("PutRolePolicy", "ReadAccess", "change", "role_inline_policy")]
    assert summary(deleted) == [("PutRolePolicy", "ReadAccess", "add", "role_inline_policy")]
    wanted = changed[0]["wanted"]
    assert wanted["Statement"][1]["Resource"] == f"arn:aws:iam::{ACCOUNT}:user/root"  # as IAM stores it
    assert '+      "Action": "*",' not in changed[0]["diff"] and '-      "Action": "*",' in changed[0]["diff"]


def test_managed_policies_attached_or_detached_in_iam_are_put_back():
    attached = repairs_for(iam_role(managed=[ADMIN]))
    detached = repairs_for(iam_role(), wanted=template(managed=[VIEW_ONLY]))

    assert summary(attached) == [("DetachRolePolicy", ADMIN, "remove", "role_managed_policy")]
    assert (attached[0]["live"], attached[0]["wanted"], attached[0]["diff"]) == (ADMIN, None, "")
    assert summary(detached) == [("AttachRolePolicy", VIEW_ONLY, "add", "role_managed_policy")]
    assert repairs_for(iam_role(managed=[VIEW_ONLY]), wanted=template(managed=[VIEW_ONLY])) == []


def test_a_trust_policy_changed_in_iam_is_restored_as_the_stack_resolves_it():
    repairs = repairs_for(iam_role(trust=trust_in_iam(mfa=False, principal="arn:aws:iam::999999999999:root")))

    assert summary(repairs) == [("UpdateAssumeRolePolicy", "trust policy", "change", "role_trust_policy")]
    assert repairs[0]["wanted"]["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{MASTER}:root"}
    assert repairs[0]["wanted"]["Statement"][0]["Condition"] == {"Null": {"aws:MultiFactorAuthAge": "false"}}
    assert repairs_for(iam_role(trust=trust_in_iam(principal=MASTER))) != []  # another principal is another meaning


def test_a_permissions_boundary_removed_changed_or_added_in_iam_is_put_back():
    wanted = template(boundary=BOUNDARY)
    removed = repairs_for(iam_role(boundary=""), wanted=wanted)
    changed = repairs_for(iam_role(boundary=ADMIN), wanted=wanted)
    added = repairs_for(iam_role(boundary=BOUNDARY))

    assert summary(removed) == [("PutRolePermissionsBoundary", "permissions boundary", "add", "role_boundary")]
    assert summary(changed) == [("PutRolePermissionsBoundary", "permissions boundary", "change", "role_boundary")]
    assert summary(added) == [("DeleteRolePermissionsBoundary", "permissions boundary", "remove", "role_boundary")]
    assert repairs_for(iam_role(boundary=BOUNDARY), wanted=wanted) == []


def test_repairs_come_narrowing_first():
    repairs = repairs_for(iam_role(trust=trust_in_iam(mfa=False), inline={"Extra": EVERYTHING}, managed=[ADMIN]))

    assert [r["operation"] for r in repairs] == ["UpdateAssumeRolePolicy", "DetachRolePolicy", "DeleteRolePolicy",
                                                 "PutRolePolicy"]


def test_what_the_stack_change_writes_itself_is_no_repair():
    deployed = template(policies={"ReadAccess": EVERYTHING}, managed=[ADMIN], boundary=BOUNDARY, mfa=False)
    live = iam_role(inline={"ReadAccess": READ_IN_IAM, "Old": EVERYTHING}, managed=[ADMIN], boundary=BOUNDARY,
                    trust=trust_in_iam(mfa=False))
    # The update puts ReadAccess, detaches ADMIN, removes the boundary and restores MFA: all CloudFormation's.
    # "Old" is in neither template: it was added in IAM, and only a repair removes it.
    assert summary(repairs_for(live, deployed=deployed)) == [("DeleteRolePolicy", "Old", "remove", "role_inline_policy")]
    # A parameter the update changes (another master) changes the trust policy through the stack too.
    assert role_repairs.compare(
        wanted_template=template(), deployed_template=template(), role_names={"ReadOnly": ROLE_NAME},
        iam_roles={ROLE_NAME: iam_role()}, wanted_variables=variables(), deployed_variables=variables("333333333333"),
    ) == []


def test_roles_the_stack_does_not_hold_or_replaces_or_iam_lacks_are_left_alone():
    edited = iam_role(managed=[ADMIN])
    assert repairs_for(edited, role_names={}) == []  # not in the stack yet: the change set creates it
    assert repairs_for(edited, wanted=template(role_name="Renamed")) == []  # the update replaces it
    assert repairs_for(edited, wanted=template(path="/ops/")) == []
    assert repairs_for(edited, deployed={"Resources": {}}) == []
    assert role_repairs.compare(wanted_template=template(), deployed_template=template(),
                                role_names={"ReadOnly": ROLE_NAME}, iam_roles={}, wanted_variables=variables(),
                                deployed_variables=variables()) == []
    assert summary(repairs_for(edited, wanted=template(role_name=ROLE_NAME))) == [
        ("DetachRolePolicy", ADMIN, "remove", "role_managed_policy")]


def test_what_cannot_be_resolved_without_aws_is_not_repaired():
    unknowable = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": {"Fn::GetAtt": ["Bucket", "Arn"]}}]}
    assert repairs_for(iam_role(inline={"ReadAccess": EVERYTHING}), wanted=template(policies={"ReadAccess": unknowable})) == []
    with_managed_resource = template()
    with_managed_resource["Resources"]["Made"] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "PolicyDocument": READ, "Roles": [{"Ref": "ReadOnly"}]}}
    # Its ARN is CloudFormation's choice: no managed policy is detached on a guess, the rest is compared.
    assert summary(repairs_for(iam_role(managed=["arn:aws:iam::222222222222:policy/RoleModel-Made-X"], inline={}),
                               wanted=with_managed_resource)) == [("PutRolePolicy", "ReadAccess", "add", "role_inline_policy")]


def test_inline_policies_of_the_role_property_and_literal_role_names_count_too():
    wanted = template(policies={})
    wanted["Resources"]["ReadOnly"]["Properties"]["Policies"] = [{"PolicyName": "ReadAccess", "PolicyDocument": READ}]
    wanted["Resources"]["ByName"] = {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": "ByName", "PolicyDocument": EVERYTHING, "Roles": [ROLE_NAME]}}
    assert repairs_for(iam_role(inline={"ReadAccess": READ_IN_IAM, "ByName": EVERYTHING}), wanted=wanted) == []
    assert summary(repairs_for(iam_role(), wanted=wanted)) == [("PutRolePolicy", "ByName", "add", "role_inline_policy")]


@pytest.mark.parametrize(("operation", "wanted", "subject", "call"), [
    ("PutRolePolicy", EVERYTHING, "Extra", ("put_role_policy", {"RoleName": ROLE_NAME, "PolicyName": "Extra",
                                                                "PolicyDocument": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'})),
    ("DeleteRolePolicy", None, "Extra", ("delete_role_policy", {"RoleName": ROLE_NAME, "PolicyName": "Extra"})),
    ("AttachRolePolicy", ADMIN, ADMIN, ("attach_role_policy", {"RoleName": ROLE_NAME, "PolicyArn": ADMIN})),
    ("DetachRolePolicy", None, ADMIN, ("detach_role_policy", {"RoleName": ROLE_NAME, "PolicyArn": ADMIN})),
    ("UpdateAssumeRolePolicy", trust_in_iam(), "trust policy",
     ("update_assume_role_policy", {"RoleName": ROLE_NAME, "PolicyDocument": __import__("json").dumps(trust_in_iam())})),
    ("PutRolePermissionsBoundary", BOUNDARY, "permissions boundary",
     ("put_role_permissions_boundary", {"RoleName": ROLE_NAME, "PermissionsBoundary": BOUNDARY})),
    ("DeleteRolePermissionsBoundary", None, "permissions boundary",
     ("delete_role_permissions_boundary", {"RoleName": ROLE_NAME})),
])
def test_each_repair_is_one_iam_call(operation, wanted, subject, call):
    repair = {"role_name": ROLE_NAME, "operation": operation, "subject": subject, "wanted": wanted}
    assert role_repairs.repair_call(repair) == call


def test_repairs_count_as_changes_and_give_the_account_an_apply_step():
    repairs = repairs_for(iam_role(inline={"Extra": EVERYTHING}, managed=[ADMIN]))
    untouched = {"name": "prod", "action": "none", "resources": []}
    repaired = {**untouched, "role_repairs": repairs}
    master = {"groups_create": [], "groups_remove": [], "policies_put": [], "policies_remove": [], "members_add": [],
              "members_remove": []}

    assert document.summarize([repaired], master) == {"add": 0, "change": 3, "remove": 0}
    assert document.has_account_step(repaired) and not document.has_account_step(untouched)
    assert not document.has_account_step({**repaired, "action": "skip", "role_repairs": []})
