"""The ground floor's own pages: sudo mode's password confirmation and django-axes' lockout page."""
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from core import sudo
from core.form_fields import posted_data
from core.forms import PasswordConfirmForm
from core.permissions import require
from core.redirects import redirect_next, safe_next_url


@require_http_methods(["GET", "POST"])
@require("view")
def confirm_password(request):
    """Sudo mode's page: the password again, then back to ``next`` (a page of this site only)."""
    next_url = safe_next_url(request, request.POST.get("next") or request.GET.get("next"))
    form = PasswordConfirmForm(request, posted_data(request))
    if form.is_valid():
        sudo.mark_password_confirmed(request)
        return redirect_next(request, next_url)
    context = {"form": form, "next": next_url, "has_password": request.user.has_usable_password()}
    return render(request, "core/confirm_password.html", context)


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes answers with this page, instead of the login page, while a user name + address is locked out."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "registration/locked_out.html", context, status=429)
