from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import MaxLengthValidator

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


class PasswordConfirmForm(forms.Form):
    """Sudo mode: the signed-in person types their password again (checked like a login, so it is throttled)."""

    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}), strip=False)

    def __init__(self, request, *args, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = authenticate(self.request, username=self.request.user.get_username(), password=password)
        if user is None or user.pk != self.request.user.pk:
            raise forms.ValidationError("That is not your password.")
        return password


class LoginForm(AuthenticationForm):
    """Django's login form limits the user name's length only in the browser; a longer one reached
    django-axes, whose failed-attempt row (255 characters) PostgreSQL refused with a server error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(self.fields["username"].max_length))
