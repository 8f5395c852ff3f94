import factory

from accounts.models import AssumableAccount, MasterAccount
from memberships.models import IAMUser, Membership
from plans.models import Job, Plan
from roles.models import InlinePolicy, RoleDefinition

READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}


class MasterAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MasterAccount
        django_get_or_create = ("id",)

    id = 1
    account_id = "111111111111"
    profile = "master"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssumableAccount

    name = factory.Sequence(lambda n: f"acct{n}")
    account_id = factory.Sequence(lambda n: f"{200000000000 + n}")
    profile = factory.LazyAttribute(lambda account: account.name)


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleDefinition

    logical_name = factory.Sequence(lambda n: f"Role{n}")
    description = "A role for tests"


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InlinePolicy

    role = factory.SubFactory(RoleFactory)
    name = factory.Sequence(lambda n: f"Policy{n}")
    document = factory.LazyFunction(lambda: dict(READ_ONLY))


class IAMUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IAMUser

    user_name = factory.Sequence(lambda n: f"user{n}@example.com")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    iam_user = factory.SubFactory(IAMUserFactory)
    account = factory.SubFactory(AccountFactory)
    role = factory.SubFactory(RoleFactory)
    reason = "On call for this account"
    requested_by_name = "eddie"


def role_form_data(**overrides) -> dict:
    """What the role form posts for a plain role; an override of None leaves that field out."""
    data = {
        "logical_name": "Admin",
        "role_name": "",
        "path": "/",
        "description": "",
        "require_mfa": "on",
        "max_session_duration": "3600",
        "permissions_boundary_arn": "",
        "managed_policy_arns": "",
        "tags": "",
        "applies_to_all_accounts": "on",
        "reason": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def pending_plan(requested_by) -> Plan:
    """A pending plan requested by ``requested_by`` (eddie), as the planner stores it, with its finished plan
    job: no AWS needed to decide on it."""
    plan = Plan.objects.create(
        status=Plan.Status.PENDING, requested_by=requested_by, requested_by_name="eddie", editors=["eddie"],
        summary={"add": 1, "change": 0, "remove": 0}, accounts=[], master={}, blocks=[], warnings=[],
    )
    Job.objects.create(kind=Job.Kind.PLAN, plan=plan, status=Job.Status.SUCCEEDED, requested_by_name="eddie")
    return plan
