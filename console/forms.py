from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from core import usernames
from core.permissions import CONSOLE_GROUPS


class ConsoleUserForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = forms.EmailField(required=False)
    groups = forms.MultipleChoiceField(
        choices=[(name, name) for name in CONSOLE_GROUPS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Viewer reads; Editor edits; Approver approves plans; Admin edits and manages console users. "
                  "You can give only roles whose powers you hold yourself.",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        strip=False,
        help_text="At least 12 characters. Leave empty to keep the current password.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args, creating: bool, instance_user=None, **kwargs):
        if instance_user is not None and not args[0]:
            kwargs["initial"] = {
                "username": instance_user.username,
                "email": instance_user.email,
                "groups": list(instance_user.groups.values_list("name", flat=True)),
                "is_active": instance_user.is_active,
            }
        super().__init__(*args, **kwargs)
        self.creating = creating
        if creating:
            self.fields["password"].required = True
            self.fields["password"].help_text = "At least 12 characters."

    def clean_username(self):
        # The name as it is stored and compared: compatibility forms (a fullwidth ａ) become plain
        # letters. Whether it can be mistaken for another person's is the service's check.
        return usernames.normalise(self.cleaned_data["username"])
