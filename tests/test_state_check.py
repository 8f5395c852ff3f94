"""accounts and roles run the whole-state check (plans/desired.py) through core.state_check."""
import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from core import state_check
from plans import desired


def test_plans_hands_its_whole_state_check_down_at_start_up():
    assert state_check._check is desired.check_desired_state


def test_an_edit_is_refused_rather_than_left_unchecked_when_no_check_is_registered(monkeypatch):
    monkeypatch.setattr(state_check, "_check", None)
    with pytest.raises(ImproperlyConfigured, match="plans app must be installed"):
        state_check.check_desired_state()


@pytest.mark.django_db
def test_an_account_edit_that_breaks_the_whole_state_rolls_back(people):
    from django.db import transaction

    from accounts.models import AssumableAccount
    from accounts.services import account_create
    from audit.services import Actor
    from tests.factories import MasterAccountFactory, RoleFactory

    MasterAccountFactory(group_quota=1)
    RoleFactory(logical_name="AdminRole", applies_to_all_accounts=True)
    actor = Actor.from_user(people.editor)
    account_create(actor=actor, name="prod", account_id="222222222222", profile="prod")
    with pytest.raises(ValidationError, match="quota is 1"), transaction.atomic():
        account_create(actor=actor, name="staging", account_id="333333333333", profile="staging")
    assert list(AssumableAccount.objects.values_list("name", flat=True)) == ["prod"]
