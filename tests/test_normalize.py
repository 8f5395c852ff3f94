"""Comparing by meaning: for every rule, a pair that means the same and a pair that does not."""
import copy

import pytest

from core import normalize

ROLE = "AWS::IAM::Role"
POLICY = "AWS::IAM::Policy"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
GROUP = "AWS::IAM::Group"


def policy(**statement) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}


# (rule, a, b): a and b mean the same.
SAME_POLICIES = [
    ("one action as a string or a one-element list",
     policy(Action="sts:AssumeRole", Resource="*"), policy(Action=["sts:AssumeRole"], Resource="*")),
    ("NotAction as a string or a list",
     policy(NotAction="iam:*", Resource="*"), policy(NotAction=["iam:*"], Resource="*")),
    ("one resource as a string or a list",
     policy(Action="s3:GetObject", Resource="arn:aws:s3:::b/*"), policy(Action="s3:GetObject", Resource=["arn:aws:s3:::b/*"])),
    ("NotResource as a string or a list",
     policy(Action="s3:*", NotResource="arn:aws:s3:::b"), policy(Action="s3:*", NotResource=["arn:aws:s3:::b"])),
    ("actions are a set",
     policy(Action=["s3:GetObject", "s3:ListBucket"], Resource="*"),
     policy(Action=["s3:ListBucket", "s3:GetObject", "s3:GetObject"], Resource="*")),
    ("resources are a set",
     policy(Action="s3:*", Resource=["arn:aws:s3:::a", "arn:aws:s3:::b"]),
     policy(Action="s3:*", Resource=["arn:aws:s3:::b", "arn:aws:s3:::a"])),
    ("action names ignore case",
     policy(Action="s3:GetObject", Resource="*"), policy(Action="S3:getobject", Resource="*")),
    ("a principal value as a string or a list",
     policy(Action="sts:AssumeRole", Principal={"AWS": "arn:aws:iam::111111111111:root"}),
     policy(Action="sts:AssumeRole", Principal={"AWS": ["arn:aws:iam::111111111111:root"]})),
    ("a principal given as a CloudFormation function, alone or in a list",
     policy(Action="sts:AssumeRole", Principal={"AWS": {"Fn::Join": [":", ["arn", "aws", "iam", "", {"Ref": "A"}, "root"]]}}),
     policy(Action="sts:AssumeRole", Principal={"AWS": [{"Fn::Join": [":", ["arn", "aws", "iam", "", {"Ref": "A"}, "root"]]}]})),
    ("a condition value false or \"false\"",
     policy(Action="sts:AssumeRole", Condition={"Null": {"aws:MultiFactorAuthAge": False}}),
     policy(Action="sts:AssumeRole", Condition={"Null": {"aws:MultiFactorAuthAge": "false"}})),
    ("a condition value 3600 or \"3600\" or [\"3600\"]",
     policy(Action="sts:AssumeRole", Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}),
     policy(Action="sts:AssumeRole", Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": ["3600"]}})),
    ("condition key names ignore case",
     policy(Action="sts:AssumeRole", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
     policy(Action="sts:AssumeRole", Condition={"Bool": {"aws:multifactorauthpresent": True}})),
    ("one statement as an object or a one-element list",
     {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
     {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    ("statements in another order",
     {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                                             {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]},
     {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
                                             {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    ("no Version is version 2008-10-17",
     {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
     {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    ("a document as JSON text or as an object",
     '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
     policy(Action="s3:*", Resource="*")),
]

# (rule, a, b): a and b differ in meaning, although they look alike.
DIFFERENT_POLICIES = [
    ("another action", policy(Action="sts:AssumeRole", Resource="*"), policy(Action=["sts:TagSession"], Resource="*")),
    ("one more action", policy(Action="s3:GetObject", Resource="*"), policy(Action=["s3:GetObject", "s3:PutObject"], Resource="*")),
    ("Action against NotAction", policy(Action="iam:*", Resource="*"), policy(NotAction="iam:*", Resource="*")),
    ("resource names keep their case",
     policy(Action="s3:*", Resource="arn:aws:s3:::Bucket"), policy(Action="s3:*", Resource="arn:aws:s3:::bucket")),
    ("Resource against NotResource", policy(Action="s3:*", Resource="arn:aws:s3:::b"), policy(Action="s3:*", NotResource="arn:aws:s3:::b")),
    ("another principal",
     policy(Action="sts:AssumeRole", Principal={"AWS": "arn:aws:iam::111111111111:root"}),
     policy(Action="sts:AssumeRole", Principal={"AWS": ["arn:aws:iam::222222222222:root"]})),
    ("a condition value true against \"false\"",
     policy(Action="sts:AssumeRole", Condition={"Null": {"aws:MultiFactorAuthAge": True}}),
     policy(Action="sts:AssumeRole", Condition={"Null": {"aws:MultiFactorAuthAge": "false"}})),
    ("a condition number against another",
     policy(Action="sts:AssumeRole", Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}),
     policy(Action="sts:AssumeRole", Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "360"}})),
    ("condition values keep their case",
     policy(Action="s3:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "Ops"}}),
     policy(Action="s3:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "ops"}})),
    ("a condition left out",
     policy(Action="sts:AssumeRole", Condition={"Null": {"aws:MultiFactorAuthAge": "false"}}),
     policy(Action="sts:AssumeRole")),
    ("one statement against two",
     {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
     {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                                             {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}),
    ("Allow against Deny", policy(Action="s3:*", Resource="*"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}),
    ("another Version",
     {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
     {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    ("a document against none", policy(Action="s3:*", Resource="*"), None),
]


@pytest.mark.parametrize("rule, a, b", SAME_POLICIES, ids=[rule for rule, _, _ in SAME_POLICIES])
def test_policies_that_differ_only_in_form_are_the_same(rule, a, b):
    assert normalize.same_policy(a, b)
    assert normalize.same_policy(b, a)


@pytest.mark.parametrize("rule, a, b", DIFFERENT_POLICIES, ids=[rule for rule, _, _ in DIFFERENT_POLICIES])
def test_policies_that_differ_in_meaning_are_not_the_same(rule, a, b):
    assert not normalize.same_policy(a, b)
    assert not normalize.same_policy(b, a)


def test_normalising_does_not_change_the_document_it_reads():
    document = policy(Action="sts:AssumeRole", Condition={"Null": {"aws:MultiFactorAuthAge": False}})
    kept = copy.deepcopy(document)
    normalize.normalized_policy(document)
    assert document == kept


def trust(**condition) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": {"Fn::Join": [":", ["arn", "aws", "iam", "", {"Ref": "AssumingAccountID"}, "root"]]}},
        "Action": "sts:AssumeRole", "Condition": {"Null": {"aws:MultiFactorAuthAge": condition.get("mfa", "false")}}}]}


def role(**properties) -> dict:
    return {"Type": ROLE, "Properties": {"AssumeRolePolicyDocument": trust(), **properties}}


def resource(resource_type: str, **properties) -> dict:
    return {"Type": resource_type, "Properties": properties}


DOCUMENT = policy(Action="s3:GetObject", Resource="*")

SAME_RESOURCES = [
    ("a role's Path / written out", ROLE, role(), role(Path="/")),
    ("a role's MaxSessionDuration 3600 written out", ROLE, role(), role(MaxSessionDuration=3600)),
    ("MaxSessionDuration as a number or as text", ROLE, role(MaxSessionDuration=7200), role(MaxSessionDuration="7200")),
    ("no Tags or an empty list", ROLE, role(), role(Tags=[])),
    ("Tags in another order", ROLE, role(Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]),
     role(Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])),
    ("no ManagedPolicyArns or an empty list", ROLE, role(), role(ManagedPolicyArns=[])),
    ("ManagedPolicyArns in another order", ROLE,
     role(ManagedPolicyArns=["arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"]),
     role(ManagedPolicyArns=["arn:aws:iam::aws:policy/B", "arn:aws:iam::aws:policy/A"])),
    ("no Policies or an empty list", ROLE, role(), role(Policies=[])),
    ("inline Policies in another order, documents in another form", ROLE,
     role(Policies=[{"PolicyName": "a", "PolicyDocument": DOCUMENT}, {"PolicyName": "b", "PolicyDocument": DOCUMENT}]),
     role(Policies=[{"PolicyName": "b", "PolicyDocument": DOCUMENT},
                    {"PolicyName": "a", "PolicyDocument": policy(Action=["s3:GetObject"], Resource=["*"])}])),
    ("a trust condition false or \"false\"", ROLE, role(AssumeRolePolicyDocument=trust(mfa=False)), role()),
    ("a policy's document in another form", POLICY,
     resource(POLICY, PolicyName="p", PolicyDocument=DOCUMENT, Roles=[{"Ref": "R"}]),
     resource(POLICY, PolicyName="p", PolicyDocument=policy(Action=["s3:GetObject"], Resource="*"), Roles=[{"Ref": "R"}])),
    ("a policy's Roles in another order, no Users or an empty list", POLICY,
     resource(POLICY, PolicyName="p", PolicyDocument=DOCUMENT, Roles=[{"Ref": "A"}, {"Ref": "B"}]),
     resource(POLICY, PolicyName="p", PolicyDocument=DOCUMENT, Roles=[{"Ref": "B"}, {"Ref": "A"}], Users=[])),
    ("a managed policy's Path / written out", MANAGED_POLICY,
     resource(MANAGED_POLICY, PolicyDocument=DOCUMENT), resource(MANAGED_POLICY, PolicyDocument=DOCUMENT, Path="/")),
    ("a group's Path / written out", GROUP, resource(GROUP, GroupName="g"), resource(GROUP, GroupName="g", Path="/")),
    ("DeletionPolicy Delete written out", ROLE, role(), {**role(), "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}),
    ("resource Metadata (kept by CloudFormation, changes nothing in IAM)", ROLE, role(),
     {**role(), "Metadata": {"RoleModel": {"Accounts": ["prod"]}}}),
    ("DependsOn as a string or a list", POLICY, {**resource(POLICY, PolicyName="p"), "DependsOn": "R"},
     {**resource(POLICY, PolicyName="p"), "DependsOn": ["R"]}),
]

DIFFERENT_RESOURCES = [
    ("another Path", ROLE, role(), role(Path="/ops/")),
    ("another MaxSessionDuration", ROLE, role(), role(MaxSessionDuration=7200)),
    ("a RoleName given", ROLE, role(), role(RoleName="AdminRole")),
    ("a tag added", ROLE, role(), role(Tags=[{"Key": "a", "Value": "1"}])),
    ("a tag value changed", ROLE, role(Tags=[{"Key": "a", "Value": "1"}]), role(Tags=[{"Key": "a", "Value": "2"}])),
    ("a managed policy added", ROLE, role(), role(ManagedPolicyArns=["arn:aws:iam::aws:policy/A"])),
    ("an inline policy's document changed", ROLE,
     role(Policies=[{"PolicyName": "a", "PolicyDocument": DOCUMENT}]),
     role(Policies=[{"PolicyName": "a", "PolicyDocument": policy(Action="s3:PutObject", Resource="*")}])),
    ("MFA no longer required", ROLE, role(), role(AssumeRolePolicyDocument=trust(mfa="true"))),
    ("a policy attached to another role", POLICY,
     resource(POLICY, PolicyName="p", PolicyDocument=DOCUMENT, Roles=[{"Ref": "A"}]),
     resource(POLICY, PolicyName="p", PolicyDocument=DOCUMENT, Roles=[{"Ref": "B"}])),
    ("a policy renamed", POLICY, resource(POLICY, PolicyName="p", PolicyDocument=DOCUMENT),
     resource(POLICY, PolicyName="q", PolicyDocument=DOCUMENT)),
    ("a managed policy's Path", MANAGED_POLICY, resource(MANAGED_POLICY, PolicyDocument=DOCUMENT),
     resource(MANAGED_POLICY, PolicyDocument=DOCUMENT, Path="/x/")),
    ("a group's Path", GROUP, resource(GROUP, GroupName="g"), resource(GROUP, GroupName="g", Path="/x/")),
    ("DeletionPolicy Retain", ROLE, role(), {**role(), "DeletionPolicy": "Retain"}),
    ("another type", ROLE, role(), {**role(), "Type": "AWS::IAM::User"}),
]


@pytest.mark.parametrize("rule, resource_type, a, b", SAME_RESOURCES, ids=[rule for rule, *_ in SAME_RESOURCES])
def test_resources_that_differ_only_in_form_are_the_same(rule, resource_type, a, b):
    assert normalize.same_resource(resource_type, a, b)
    assert normalize.same_resource(resource_type, b, a)


@pytest.mark.parametrize("rule, resource_type, a, b", DIFFERENT_RESOURCES, ids=[rule for rule, *_ in DIFFERENT_RESOURCES])
def test_resources_that_differ_in_meaning_are_not_the_same(rule, resource_type, a, b):
    assert not normalize.same_resource(resource_type, a, b)
    assert not normalize.same_resource(resource_type, b, a)


def template(description="Ours", **resources) -> dict:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Parameters": {"AssumingAccountID": {"Type": "String", "Description": "Master", "MinLength": 12}},
        "Resources": resources,
    }


def test_a_template_that_differs_only_in_description_metadata_and_parameter_text_is_the_same():
    live = template("The original tool's words", AdminRole=role())
    live.pop("AWSTemplateFormatVersion")
    live["Parameters"]["AssumingAccountID"] = {"Type": "String", "Description": "Other words", "AllowedPattern": "[0-9]+"}
    wanted = template(AdminRole=role(Path="/", MaxSessionDuration=3600))
    wanted["Metadata"] = {"Generator": "console"}
    wanted["Outputs"] = {}
    assert normalize.same_template(live, wanted)


@pytest.mark.parametrize("change", [
    "a resource added", "a resource removed", "a parameter's default", "a parameter's type", "an output added",
])
def test_a_template_that_differs_in_meaning_is_not_the_same(change):
    live = template(AdminRole=role(), ReadRole=role())
    wanted = copy.deepcopy(live)
    if change == "a resource added":
        wanted["Resources"]["Other"] = role()
    elif change == "a resource removed":
        del wanted["Resources"]["ReadRole"]
    elif change == "a parameter's default":
        wanted["Parameters"]["AssumingAccountID"]["Default"] = "111111111111"
    elif change == "a parameter's type":
        wanted["Parameters"]["AssumingAccountID"]["Type"] = "Number"
    else:
        wanted["Outputs"] = {"Arn": {"Value": {"Fn::GetAtt": ["AdminRole", "Arn"]}, "Export": {"Name": "admin"}}}
    assert not normalize.same_template(live, wanted)


def test_no_live_template_is_never_the_same_as_a_wanted_one():
    assert not normalize.same_template(None, template(AdminRole=role()))
    assert normalize.same_template(None, None)


def test_the_template_sent_keeps_the_deployed_form_of_everything_that_means_the_same():
    live = template(AdminRole=role(), AdminPolicy=resource(POLICY, PolicyName="p", PolicyDocument=policy(
        Action=["s3:GetObject"], Resource="*"), Roles=[{"Ref": "AdminRole"}]))
    wanted = template(
        AdminRole=role(Path="/", MaxSessionDuration=3600, Description="Admins", AssumeRolePolicyDocument=trust(mfa=False)),
        AdminPolicy=resource(POLICY, PolicyName="p", PolicyDocument=DOCUMENT, Roles=[{"Ref": "AdminRole"}]),
    )

    sent = normalize.keep_live_form(live, wanted)

    assert sent["Resources"]["AdminPolicy"] == live["Resources"]["AdminPolicy"]
    assert sent["Resources"]["AdminRole"] == role(Description="Admins")  # defaults left out, trust as deployed
    assert normalize.same_template(sent, wanted)
    assert sent["Description"] == "Ours"


def test_the_template_sent_carries_every_real_change():
    live = template(AdminRole=role(Path="/"), Old=role())
    wanted = template(AdminRole=role(Path="/ops/", RoleName="Admin"), New=role())

    sent = normalize.keep_live_form(live, wanted)

    assert sent["Resources"]["AdminRole"]["Properties"]["Path"] == "/ops/"
    assert sent["Resources"]["AdminRole"]["Properties"]["RoleName"] == "Admin"
    assert set(sent["Resources"]) == {"AdminRole", "New"}
    assert normalize.same_template(sent, wanted)
