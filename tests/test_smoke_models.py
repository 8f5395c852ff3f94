import pytest
from django.core.exceptions import ValidationError

from accounts.services import account_create
from memberships.services import memberships_grant
from tests.factories import AccountFactory, IAMUserFactory, RoleFactory


@pytest.mark.django_db
def test_it_refuses_an_eleventh_group_for_one_user(eddie):
    iam_user = IAMUserFactory()
    accounts = AccountFactory.create_batch(11)
    role = RoleFactory()
    memberships_grant(actor=eddie, grants=[(iam_user, a, role) for a in accounts[:10]], reason="on call")
    with pytest.raises(ValidationError, match="at most 10 groups"):
        memberships_grant(actor=eddie, grants=[(iam_user, accounts[10], role)], reason="on call")
    assert iam_user.memberships.count() == 10


@pytest.mark.django_db
def test_it_refuses_an_account_whose_group_names_would_be_too_long(eddie):
    RoleFactory(logical_name="R" * 60)
    with pytest.raises(ValidationError, match="at most 128"):
        account_create(actor=eddie, name="a" * 70, account_id="123456789012", profile="p")
