"""Names a live deployment already has survive import: CloudFormation's role names, policy logical ids.

No AWS here: the import, the generated template, the role form and the role page, from the database.
"""
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import AssumableAccount, LiveStackRecord, MasterAccount
from audit.services import Actor
from integrations import aws
from roles import cloudformation
from roles.models import InlinePolicy, RoleDefinition
from roles.selectors import roles_with_policies
from roles.services import policy_create, role_create
from tests.original_world import ORIGINAL, ORIGINAL_ROLES

pytestmark = pytest.mark.django_db

ORIGINAL_POLICY_IDS = {role: f"{role}Policies" for role in ORIGINAL_ROLES}
ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def import_original(people):
    call_command("rolemodel", "import", str(ORIGINAL / "config.yml"), "--users", str(ORIGINAL / "users.yml"),
                 "--as", people.editor.username, stdout=open("/dev/null", "w"))


def template(**kwargs) -> dict:
    return cloudformation.build_template(list(roles_with_policies()), **kwargs)


def record(account, *, role_names: dict, template: dict, stack_name="Example-RoleModel") -> LiveStackRecord:
    return LiveStackRecord.objects.create(
        account=account, stack_name=stack_name, stack_status="CREATE_COMPLETE", last_updated="2026-11-30T07:00:00+00:00",
        stack_id=f"arn:aws:cloudformation:us-east-1:{account.account_id}:stack/{stack_name}/0f6e3b20",
        template=template, role_names=role_names, read_at=timezone.now(),
    )


def test_roles_imported_without_role_name_keep_the_name_cloudformation_gave_them(people):
    import_original(people)

    roles = {role.logical_name: role for role in RoleDefinition.objects.all()}
    assert set(roles) == set(ORIGINAL_ROLES)
    assert all(role.name_from_cloudformation and role.role_name == "" for role in roles.values())
    resources = template()["Resources"]
    assert all("RoleName" not in resources[name]["Properties"] for name in ORIGINAL_ROLES)


def test_imported_policy_resources_keep_their_logical_ids(people):
    import_original(people)

    kept = {policy.role.logical_name: policy.logical_id for policy in InlinePolicy.objects.select_related("role")}
    assert kept == ORIGINAL_POLICY_IDS
    original = json.loads((ORIGINAL / "roles.cf").read_text())["Resources"]
    assert set(template()["Resources"]) == set(original)


def test_a_role_imported_with_a_role_name_is_named_by_the_console(people, tmp_path):
    original = json.loads((ORIGINAL / "roles.cf").read_text())
    original["Resources"]["AdminRole"]["Properties"]["RoleName"] = "Administrators"
    (tmp_path / "roles.cf").write_text(json.dumps(original))
    (tmp_path / "config.yml").write_text((ORIGINAL / "config.yml").read_text())
    call_command("rolemodel", "import", str(tmp_path / "config.yml"), "--as", people.editor.username,
                 stdout=open("/dev/null", "w"))

    admin = RoleDefinition.objects.get(logical_name="AdminRole")
    assert (admin.name_from_cloudformation, admin.role_name) == (False, "Administrators")
    assert RoleDefinition.objects.get(logical_name="FinanceRole").name_from_cloudformation


def test_a_role_created_in_the_console_still_gets_an_explicit_role_name(people, eddie):
    role = role_create(actor=eddie, logical_name="Auditor", policies=[{"name": "Read", "document": ALLOW_S3}])

    assert role.name_from_cloudformation is False
    assert template()["Resources"]["Auditor"]["Properties"]["RoleName"] == "Auditor"
    assert template(kept_names={"Auditor": "Example-RoleModel-Auditor-1A2B3C4D5E6F"})["Resources"]["Auditor"][
        "Properties"]["RoleName"] == "Auditor"


def test_in_an_account_a_role_keeps_its_cloudformation_name_only_where_it_lives_under_one(people):
    import_original(people)

    resources = template(kept_names={"AdminRole": "Example-RoleModel-AdminRole-1A2B3C4D5E6F"})["Resources"]

    assert "RoleName" not in resources["AdminRole"]["Properties"]
    # Not deployed there yet: nothing to keep, so the template names it and its ARN is known exactly.
    assert resources["FinanceRole"]["Properties"]["RoleName"] == "FinanceRole"


def test_a_console_policy_never_takes_an_id_an_imported_policy_keeps(people, eddie):
    import_original(people)
    admin = RoleDefinition.objects.get(logical_name="AdminRole")
    # A policy named "ies" would generate AdminRole + ies + Policy; the kept ids must not be taken either.
    InlinePolicy.objects.filter(role=admin).update(logical_id="AdminRoleiesPolicy")
    policy_create(actor=eddie, role=admin, name="ies", document=ALLOW_S3)

    resources = template()["Resources"]

    assert resources["AdminRoleiesPolicy"]["Properties"]["PolicyName"] == "AdminRolePolicy"
    assert resources["AdminRoleiesPolicy2"]["Properties"]["PolicyName"] == "ies"


def test_a_kept_policy_id_that_a_role_now_uses_gives_way_to_a_generated_one(people, eddie):
    import_original(people)
    role_create(actor=eddie, logical_name="AdminRolePolicies")

    resources = template()["Resources"]

    assert resources["AdminRolePolicies"]["Type"] == "AWS::IAM::Role"
    assert resources["AdminRoleAdminRolePolicyPolicy"]["Properties"]["Roles"] == [{"Ref": "AdminRole"}]


def test_the_role_form_lets_an_imported_role_give_up_its_cloudformation_name(people, client_for):
    import_original(people)
    role = RoleDefinition.objects.get(logical_name="SuperUserRole")
    client = client_for(people.editor)
    page = client.get(reverse("roles:edit", args=[role.pk]))
    assert page.context["form"]["name_from_cloudformation"].value() is True
    data = {name: field.value() for name, field in ((n, page.context["form"][n]) for n in page.context["form"].fields)}
    data = {name: value for name, value in data.items() if value is not None}
    data.update(tags="", managed_policy_arns="", accounts=[], reason="A name people can type in Switch Role")

    both = client.post(reverse("roles:edit", args=[role.pk]), {**data, "role_name": "SuperUser"})
    assert "has no role name of its own" in both.content.decode()
    data.pop("name_from_cloudformation")
    client.post(reverse("roles:edit", args=[role.pk]), {**data, "role_name": "SuperUser"})

    role.refresh_from_db()
    assert (role.name_from_cloudformation, role.role_name) == (False, "SuperUser")
    assert "name_from_cloudformation" not in client.get(reverse("roles:edit", args=[role.pk])).context["form"].fields
    assert "name_from_cloudformation" not in client.get(reverse("roles:create")).context["form"].fields


def test_the_role_page_shows_the_live_name_and_arn_per_account_without_calling_aws(people, client_for, monkeypatch):
    import_original(people)
    prod, cdn = AssumableAccount.objects.get(name="prod"), AssumableAccount.objects.get(name="cdn")
    for account in (prod, cdn):
        account.account_id = {"prod": "222222222222", "cdn": "333333333333"}[account.name]
        account.save()
    original = json.loads((ORIGINAL / "roles.cf").read_text())
    record(prod, role_names={"AdminRole": "Example-RoleModel-AdminRole-1A2B3C4D5E6F"}, template=original)

    def no_aws(access):
        raise AssertionError(f"the role page called AWS ({access.label})")

    monkeypatch.setattr(aws, "session_for", no_aws)
    role = RoleDefinition.objects.get(logical_name="AdminRole")
    page = client_for(people.viewer).get(reverse("roles:detail", args=[role.pk]))

    html = page.content.decode()
    assert "Example-RoleModel-AdminRole-1A2B3C4D5E6F" in html
    assert "arn:aws:iam::222222222222:role/Example-RoleModel-AdminRole-1A2B3C4D5E6F" in html
    rows = {row["account"].name: row for row in page.context["deployments"]}
    assert rows["prod"]["named_by_cloudformation"] is True
    assert rows["cdn"]["physical_name"] == "" and "not deployed yet" in html


def test_a_record_of_another_stack_name_is_not_taken_for_this_one(people):
    import_original(people)
    prod = AssumableAccount.objects.get(name="prod")
    record(prod, role_names={"AdminRole": "Old-AdminRole-1A2B3C4D5E6F"},
           template=json.loads((ORIGINAL / "roles.cf").read_text()), stack_name="Old")
    stack_name = MasterAccount.load().stack_name

    from roles.selectors import kept_role_names

    assert kept_role_names([prod], list(roles_with_policies()), stack_name=stack_name) == {"prod": {}}


def test_an_imported_role_given_another_path_is_named_since_its_replacement_needs_a_known_name(people, eddie):
    import_original(people)
    prod = AssumableAccount.objects.get(name="prod")
    prod.account_id = "222222222222"
    prod.save()
    stack_name = MasterAccount.load().stack_name
    names = {role: f"{stack_name}-{role}-1A2B3C4D5E6F" for role in ORIGINAL_ROLES}
    record(prod, role_names=names, template=json.loads((ORIGINAL / "roles.cf").read_text()), stack_name=stack_name)
    from plans import desired
    from roles.services import role_update

    before = desired.desired_state_document()
    assert before["groups"]["prod.AdminRole"]["role_arn"] == f"arn:aws:iam::222222222222:role/{names['AdminRole']}"
    assert "RoleName" not in before["accounts"]["prod"]["template"]["Resources"]["AdminRole"]["Properties"]

    role_update(actor=eddie, role=RoleDefinition.objects.get(logical_name="AdminRole"), path="/people/")
    after = desired.desired_state_document()

    # A new path replaces the role; under a name CloudFormation would make up, its ARN could not be approved.
    assert after["accounts"]["prod"]["template"]["Resources"]["AdminRole"]["Properties"]["RoleName"] == "AdminRole"
    assert after["groups"]["prod.AdminRole"]["role_arn"] == "arn:aws:iam::222222222222:role/people/AdminRole"
    assert after["groups"]["prod.FinanceRole"]["role_arn"] == before["groups"]["prod.FinanceRole"]["role_arn"]


def test_the_role_list_does_not_invent_a_name_for_a_role_cloudformation_named(people, client_for, eddie):
    import_original(people)
    role_create(actor=eddie, logical_name="Auditor")

    html = client_for(people.viewer).get(reverse("roles:list")).content.decode()

    assert "<code>/AdminRole</code>" not in html and "named by CloudFormation" in html
    assert "<code>/Auditor</code>" in html


def test_an_export_of_an_adopted_deployment_imports_back_to_the_same_names_and_ids(people, tmp_path):
    from audit.models import AuditEvent

    import_original(people)
    call_command("rolemodel", "export", str(tmp_path), stdout=open("/dev/null", "w"))
    exported = json.loads((tmp_path / "roles.cf").read_text())["Resources"]
    assert all("RoleName" not in exported[role]["Properties"] for role in ORIGINAL_ROLES)
    assert {f"{role}Policies" for role in ORIGINAL_ROLES} <= set(exported)
    rows = AuditEvent.objects.count()

    call_command("rolemodel", "import", str(tmp_path / "config.yml"), "--users", str(tmp_path / "users.yml"),
                 stdout=open("/dev/null", "w"))

    assert AuditEvent.objects.count() == rows
    assert all(role.name_from_cloudformation for role in RoleDefinition.objects.all())
    assert {p.role.logical_name: p.logical_id for p in InlinePolicy.objects.select_related("role")} == ORIGINAL_POLICY_IDS
