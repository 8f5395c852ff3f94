from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts import selectors, services
from accounts.forms import AccountDeleteForm, AccountForm, MasterAccountForm
from accounts.models import AssumableAccount, MasterAccount
from audit.selectors import history_context
from audit.services import Actor
from core import limits
from core.form_fields import posted_data, suggestion_text
from core.form_flow import submit
from core.permissions import require
from core.sudo import confirmation_needed, require_recent_password


@require_GET
@require("view")
def account_list(request):
    context = {
        "accounts": selectors.accounts_for_list(),
        "roles_for_all": selectors.roles_applying_to_all_count(),
        "master": MasterAccount.load(),
    }
    return render(request, "accounts/account_list.html", context)


@require_GET
@require("view")
def account_suggestions(request):
    """A search box's suggestions (an htmx fragment): at most 20 accounts matching the name being typed."""
    text = suggestion_text(request, max_length=limits.ACCOUNT_NAME_MAX)
    suggestions = [(account.name, account.account_id) for account in selectors.account_suggestions(text)]
    return render(request, "partials/suggestions.html", {"suggestions": suggestions, "text": text, "kind": "account"})


@require_GET
@require("view")
def account_detail(request, pk: int):
    account = get_object_or_404(AssumableAccount, pk=pk)
    tab = "history" if request.GET.get("tab") == "history" else "overview"
    context = {"account": account, "roles_with_members": selectors.account_roles_with_members(account), "tab": tab}
    if tab == "history":
        context.update(history_context(object_type="account", obj=account))
    return render(request, "accounts/account_detail.html", context)


@require_http_methods(["GET", "POST"])
@require("edit")
def account_create(request):
    form = AccountForm(posted_data(request))
    done = submit(
        request, form,
        lambda: services.account_create(actor=Actor.from_user(request.user), reason=form.cleaned_data["reason"],
                                        **form.service_fields()),
        success=lambda account: f"Account {account.name} added.",
        then=lambda account: redirect("accounts:detail", pk=account.pk),
    )
    return done or render(request, "accounts/account_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@require("edit")
def account_edit(request, pk: int):
    account = get_object_or_404(AssumableAccount, pk=pk)
    form = AccountForm(posted_data(request), account=account)

    def ask():
        if account.enabled and not form.cleaned_data["enabled"]:
            return confirmation_needed(request, what=f"Disabling account {account.name}", next_url=request.get_full_path())
        return None

    done = submit(
        request, form,
        lambda: services.account_update(actor=Actor.from_user(request.user), account=account,
                                        reason=form.cleaned_data["reason"], **form.service_fields()),
        success=lambda saved: f"Account {saved.name} saved.",
        then=lambda saved: redirect("accounts:detail", pk=saved.pk),
        ask=ask,
    )
    return done or render(request, "accounts/account_form.html", {"form": form, "account": account})


@require_http_methods(["GET", "POST"])
@require("edit")
@require_recent_password
def account_delete(request, pk: int):
    account = get_object_or_404(AssumableAccount, pk=pk)
    form = AccountDeleteForm(posted_data(request))
    done = submit(
        request, form,
        lambda: services.account_delete(actor=Actor.from_user(request.user), account=account,
                                        reason=form.cleaned_data["reason"]),
        success=f"Account {account.name} removed from the desired state.",
        then=lambda _: redirect("accounts:list"),
    )
    if done:
        return done
    context = {"account": account, "form": form, "membership_count": account.memberships.count()}
    return render(request, "accounts/account_delete.html", context)


@require_http_methods(["GET", "POST"])
@require("edit")
def master_edit(request):
    master = MasterAccount.load()
    form = MasterAccountForm(posted_data(request), master=master)
    done = submit(
        request, form,
        lambda: services.master_account_update(actor=Actor.from_user(request.user), reason=form.cleaned_data["reason"],
                                               **form.service_fields()),
        success="Master account saved.",
        then=lambda _: redirect("accounts:list"),
    )
    if done:
        return done
    context = {"form": form, **history_context(object_type="master account", obj=master)}
    return render(request, "accounts/master_form.html", context)
