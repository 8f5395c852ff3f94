"""The replacement table matches CloudFormation's own schemas, and each resource change says whether it replaces."""
import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from plans import diff, replacement

ROLE = "AWS::IAM::Role"


@pytest.mark.parametrize("resource_type", sorted(replacement.CREATE_ONLY_PROPERTIES))
def test_the_create_only_table_equals_the_schema_cfn_lint_ships(resource_type):
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema

    ours = {f"/properties/{name}" for name in replacement.CREATE_ONLY_PROPERTIES[resource_type]}

    assert ours == set(schema.get("createOnlyProperties", []))


def test_the_table_covers_every_type_the_console_generates_or_imports():
    from interchange.importing import template_file

    assert {template_file.ROLE, template_file.POLICY, template_file.MANAGED_POLICY} <= set(replacement.CREATE_ONLY_PROPERTIES)


def role(**properties) -> dict:
    return {"Type": ROLE, "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}, **properties}}


def template(**resources) -> dict:
    return {"Resources": resources}


@pytest.mark.parametrize("before, after, expected", [
    (role(RoleName="Admin"), role(RoleName="Administrator"), True),
    (role(), role(Path="/ops/"), True),
    (role(), role(RoleName="Admin"), True),
    (role(RoleName="Admin"), role(RoleName="Admin", Description="Admins"), False),
    (role(), role(Path="/"), False),  # the default written out is no change at all
    (role(MaxSessionDuration=3600), role(MaxSessionDuration=7200), False),
])
def test_a_role_is_replaced_when_a_create_only_property_changes_by_meaning(before, after, expected):
    assert replacement.replacement(ROLE, before, after) is expected


def test_adding_or_removing_replaces_nothing_and_an_unknown_type_is_conditional():
    assert replacement.replacement(ROLE, None, role()) is False
    assert replacement.replacement(ROLE, role(), None) is False
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "a"}}
    assert replacement.replacement("AWS::S3::Bucket", bucket, {**bucket, "Properties": {"BucketName": "b"}}) == "Conditional"


def test_a_change_sets_replacement_field_reads_as_true_false_or_conditional():
    assert [replacement.from_change_set(v) for v in ("True", "False", "Conditional", "", None)] == [
        True, False, "Conditional", None, None]


def test_every_resource_change_says_whether_it_replaces():
    live = template(Admin=role(RoleName="Admin"), Read=role(RoleName="Read"), Gone=role(RoleName="Gone"))
    wanted = template(Admin=role(RoleName="Administrator"), Read=role(RoleName="Read", Description="x"), New=role(RoleName="New"))

    changes = {c["logical_id"]: c for c in diff.resource_changes(live, wanted)}

    assert {k: (c["action"], c["replacement"]) for k, c in changes.items()} == {
        "Admin": ("change", True), "Read": ("change", False), "Gone": ("remove", False), "New": ("add", False),
    }
    assert changes["Admin"]["replaced_properties"] == ["RoleName"]


def test_a_role_removed_and_added_under_another_logical_id_is_one_replacement():
    by_name = diff.resource_changes(template(Old=role(RoleName="Admin")), template(New=role(RoleName="admin")))
    assert {(c["logical_id"], c["replacement"]) for c in by_name} == {("Old", True), ("New", True)}
    assert next(c for c in by_name if c["logical_id"] == "New")["replaces"] == "Old"

    confirmed = diff.resource_changes(template(Old=role()), template(New=role()), renames={"New": "Old"})
    assert {(c["logical_id"], c["replacement"]) for c in confirmed} == {("Old", True), ("New", True)}

    unrelated = diff.resource_changes(template(Old=role(RoleName="A")), template(New=role(RoleName="B")))
    assert {(c["logical_id"], c["replacement"]) for c in unrelated} == {("Old", False), ("New", False)}


def test_a_difference_of_form_is_no_resource_change():
    live = template(Admin=role())
    wanted = template(Admin=role(Path="/", MaxSessionDuration=3600, Tags=[]))
    assert diff.resource_changes(live, wanted) == []


def account_plan(reported: str) -> dict:
    return {
        "name": "prod", "account_id": "222222222222",
        "resources": diff.resource_changes(template(AdminRole=role(RoleName="AdminRole")),
                                           template(AdminRole=role(RoleName="AdminRole", Description="Admins"))),
        "aws_changes": [{"action": "Modify", "logical_id": "AdminRole", "type": ROLE, "replacement": reported}],
    }


@pytest.mark.django_db
def test_a_replacement_that_only_the_change_set_reports_is_taken_and_blocks():
    from plans import guards

    reported, silent, conditional = account_plan("True"), account_plan(""), account_plan("Conditional")
    guards.apply_change_set_replacements([reported, silent, conditional])

    assert (reported["resources"][0]["replacement"], reported["resources"][0]["replacement_source"]) == (True, "aws")
    assert (silent["resources"][0]["replacement"], silent["resources"][0]["replacement_source"]) == (False, "schema")
    assert conditional["resources"][0]["replacement"] == "Conditional"
    [block] = guards.role_replacement_blocks([reported, silent], {})
    assert block["message"].startswith(
        "Role AdminRole in prod would be replaced (CloudFormation reports it): "
        "arn:aws:iam::222222222222:role/AdminRole becomes a new role, and every switch-role link")
    [maybe] = guards.role_replacement_blocks([conditional], {})
    assert maybe["message"].startswith("Role AdminRole in prod may be replaced")
