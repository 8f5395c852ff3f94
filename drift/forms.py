from django import forms


class AdoptForm(forms.Form):
    reason = forms.CharField(max_length=400, strip=True, label="Why the live value is right",
                             error_messages={"required": "Say why the live value is right: the reason is kept in the audit history."})
