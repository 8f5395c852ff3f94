import json

from django import forms
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import AssumableAccount, MasterAccount
from audit.selectors import history_context
from audit.services import Actor
from core import limits
from core.form_fields import posted_data
from core.form_flow import submit
from core.permissions import require
from core.sudo import confirmation_needed, require_recent_password
from roles import cloudformation, selectors, services
from roles.forms import PolicyDeleteForm, PolicyForm, RoleDeleteForm, RoleForm
from roles.models import InlinePolicy, RoleDefinition

DETAIL_TABS = ("overview", "cloudformation", "history")


class PreviewAccountForm(forms.Form):
    """The account whose template the preview shows, among ``accounts`` (read once by the page)."""

    account = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = {account.pk: account for account in accounts}
        self.fields["account"].choices = [("", "---------"), *((account.pk, account.name) for account in accounts)]

    def chosen_account(self):
        return self.accounts.get(self.cleaned_data["account"]) if self.is_valid() else None


@require_GET
@require("view")
def role_list(request):
    return render(request, "roles/role_list.html", {"roles": selectors.roles_for_list()})


def _cloudformation_preview(request, role: RoleDefinition, master: MasterAccount) -> dict:
    """The generated template of the account chosen in ``?account=`` (else the first the role applies to)."""
    accounts = list(AssumableAccount.objects.order_by("name"))
    form = PreviewAccountForm(request.GET, accounts=accounts)
    account = form.chosen_account()
    if account is None and not form.errors:
        account = next((candidate for candidate in accounts if selectors.role_applies_to(role, candidate)), None)
        form = PreviewAccountForm(initial={"account": account.pk if account else None}, accounts=accounts)
    preview = {"preview_form": form, "preview_account": account}
    if account is not None:
        roles = list(selectors.roles_for_account(account))
        kept_names = selectors.kept_role_names([account], roles, stack_name=master.stack_name)
        template = cloudformation.build_template(roles, kept_names=kept_names[account.name])
        preview.update(
            preview_json=json.dumps(template, indent=2),
            preview_problems=cloudformation.template_problems(template),
            preview_bytes=len(cloudformation.template_body(template).encode()),
            preview_applies=selectors.role_applies_to(role, account),
        )
    return preview


@require_GET
@require("view")
def role_detail(request, pk: int):
    role = get_object_or_404(selectors.roles_with_policies(), pk=pk)
    tab = request.GET.get("tab") or ("cloudformation" if "account" in request.GET else "overview")
    tab = tab if tab in DETAIL_TABS else "overview"
    master = MasterAccount.load()
    policies = [(policy, json.dumps(policy.document, indent=2), policy.size) for policy in role.policies.all()]
    context = {
        "role": role,
        "tab": tab,
        "master": master,
        "policies": policies,
        "policies_total": sum(size for _, _, size in policies),
        "policy_chars_max": limits.ROLE_INLINE_POLICIES_CHARS_MAX,
        "trust_json": json.dumps(cloudformation.resolved_trust_policy(role, master.account_id or "<master account id>"), indent=2),
        "warnings": services.warnings_for_role(role),
        "member_count": role.memberships.count(),
        "deployments": selectors.role_deployments(role, stack_name=master.stack_name),
    }
    if tab == "history":
        context.update(history_context(object_type="role", obj=role, rows=selectors.role_history(role)))
    if tab == "cloudformation":
        context.update(_cloudformation_preview(request, role, master))
    return render(request, "roles/role_detail.html", context)


@require_http_methods(["GET", "POST"])
@require("edit")
def role_create(request):
    form = RoleForm(posted_data(request))
    done = submit(
        request, form,
        lambda: services.role_create(actor=Actor.from_user(request.user), accounts=list(form.cleaned_data["accounts"]),
                                     reason=form.cleaned_data["reason"], **form.service_fields()),
        success=lambda role: f"Role {role.logical_name} added.",
        then=lambda role: redirect("roles:detail", pk=role.pk),
    )
    return done or render(request, "roles/role_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@require("edit")
def role_edit(request, pk: int):
    role = get_object_or_404(RoleDefinition, pk=pk)
    form = RoleForm(posted_data(request), role=role,
                    offer_replacement_confirmation=request.GET.get("confirm_replacement") == "1")

    def ask():
        if _narrows_accounts(role, form.cleaned_data):
            return confirmation_needed(request, what=f"Narrowing the accounts of role {role.logical_name}",
                                       next_url=request.get_full_path())
        return None

    done = submit(
        request, form,
        lambda: services.role_update(actor=Actor.from_user(request.user), role=role,
                                     accounts=list(form.cleaned_data["accounts"]), reason=form.cleaned_data["reason"],
                                     confirm_replacement=form.cleaned_data["confirm_replacement"],
                                     **form.service_fields()),
        success=lambda saved: f"Role {saved.logical_name} saved.",
        then=lambda saved: redirect("roles:detail", pk=saved.pk),
        ask=ask,
    )
    return done or render(request, "roles/role_form.html", {"form": form, "role": role})


def _narrows_accounts(role: RoleDefinition, cleaned: dict) -> bool:
    """True when the edit takes an account away from the role (all accounts → some, or one fewer)."""
    if cleaned["applies_to_all_accounts"]:
        return False
    if role.applies_to_all_accounts:
        return True
    kept = {account.pk for account in cleaned["accounts"]}
    return any(account.pk not in kept for account in role.accounts.all())


@require_http_methods(["GET", "POST"])
@require("edit")
@require_recent_password
def role_delete(request, pk: int):
    role = get_object_or_404(RoleDefinition, pk=pk)
    form = RoleDeleteForm(posted_data(request))
    done = submit(
        request, form,
        lambda: services.role_delete(actor=Actor.from_user(request.user), role=role, reason=form.cleaned_data["reason"]),
        success=f"Role {role.logical_name} removed from the desired state.",
        then=lambda _: redirect("roles:list"),
    )
    if done:
        return done
    context = {"role": role, "form": form, "membership_count": role.memberships.count()}
    return render(request, "roles/role_delete.html", context)


@require_http_methods(["GET", "POST"])
@require("edit")
def policy_create(request, pk: int):
    role = get_object_or_404(RoleDefinition, pk=pk)
    form = PolicyForm(posted_data(request), role=role)
    done = submit(
        request, form,
        lambda: services.policy_create(actor=Actor.from_user(request.user), role=role, name=form.cleaned_data["name"],
                                       document=form.cleaned_data["document"], reason=form.cleaned_data["reason"]),
        success=lambda policy: f"Policy {policy.name} added to {role.logical_name}.",
        then=lambda _: redirect("roles:detail", pk=role.pk),
    )
    return done or render(request, "roles/policy_form.html", _policy_form_context(role, form))


@require_http_methods(["GET", "POST"])
@require("edit")
def policy_edit(request, pk: int, policy_pk: int):
    role = get_object_or_404(RoleDefinition, pk=pk)
    policy = get_object_or_404(InlinePolicy, pk=policy_pk, role=role)
    form = PolicyForm(posted_data(request), role=role, policy=policy)
    done = submit(
        request, form,
        lambda: services.policy_update(actor=Actor.from_user(request.user), policy=policy, name=form.cleaned_data["name"],
                                       document=form.cleaned_data["document"], reason=form.cleaned_data["reason"]),
        success=lambda saved: f"Policy {saved.name} of {role.logical_name} saved.",
        then=lambda _: redirect("roles:detail", pk=role.pk),
    )
    return done or render(request, "roles/policy_form.html", _policy_form_context(role, form, policy))


def _policy_form_context(role: RoleDefinition, form: PolicyForm, policy: InlinePolicy | None = None) -> dict:
    others = role.policies.exclude(pk=policy.pk) if policy is not None else role.policies.all()
    return {
        "role": role,
        "policy": policy,
        "form": form,
        "other_policies_size": sum(other.size for other in others),
        "policy_chars_max": limits.ROLE_INLINE_POLICIES_CHARS_MAX,
    }


@require_http_methods(["GET", "POST"])
@require("edit")
@require_recent_password
def policy_delete(request, pk: int, policy_pk: int):
    role = get_object_or_404(RoleDefinition, pk=pk)
    policy = get_object_or_404(InlinePolicy, pk=policy_pk, role=role)
    form = PolicyDeleteForm(posted_data(request))
    done = submit(
        request, form,
        lambda: services.policy_delete(actor=Actor.from_user(request.user), policy=policy,
                                       reason=form.cleaned_data["reason"]),
        success=f"Policy {policy.name} removed from {role.logical_name}.",
        then=lambda _: redirect("roles:detail", pk=role.pk),
    )
    return done or render(request, "roles/policy_delete.html", {"role": role, "policy": policy, "form": form})
