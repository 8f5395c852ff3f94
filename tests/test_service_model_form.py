"""core/form_fields.ServiceModelForm: fields from the model, but the service validates and saves."""
import pytest

from accounts.forms import AccountForm, MasterAccountForm
from accounts.models import MasterAccount
from tests.factories import AccountFactory, MasterAccountFactory

pytestmark = pytest.mark.django_db


def test_validating_the_form_leaves_its_instance_as_it_was():
    """The edit page compares the account as stored with the form (disabling asks for the password)."""
    account = AccountFactory(name="prod", enabled=True)
    form = AccountForm({"name": "renamed"}, account=account)
    assert form.is_valid(), form.errors
    assert (account.name, account.enabled) == ("prod", True)
    assert form.service_fields()["enabled"] is False


def test_the_models_rules_are_left_to_the_service():
    """A bad account id is the model's to refuse (inside the service's transaction), not the form's."""
    form = AccountForm({"name": "dev", "account_id": "not twelve digits"})
    assert form.is_valid(), form.errors


def test_generated_text_fields_refuse_control_characters_and_keep_no_column_limit():
    MasterAccountFactory()
    form = MasterAccountForm({"region": "eu\x07", "stack_name": "S" * 500, "group_quota": "-1"}, master=MasterAccount.load())
    assert not form.is_valid()
    assert list(form.errors) == ["region"]
    assert "maxlength" not in str(form["stack_name"]) and 'min="0"' not in str(form["group_quota"])
