from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import Actor
from core.form_fields import posted_data
from core.permissions import require
from notifications import selectors, services
from notifications.forms import DeliveryFilterForm, EmailPreferencesForm
from notifications.models import Delivery

PAGE_SIZE = 50


@require_GET
@require("manage_users")
def delivery_list(request):
    filters = DeliveryFilterForm(request.GET)
    rows = selectors.deliveries(**filters.selector_filters()) if filters.is_valid() else Delivery.objects.none()
    return render(request, "notifications/delivery_list.html", {
        "filters": filters,
        "page_obj": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "webhook_problem": services.webhook_setting_problem(),
        "action": reverse("notifications:delivery_list"),
    })


@require_http_methods(["GET", "POST"])
@require("view")
def preferences(request):
    addressed = services.events_for(request.user)
    form = EmailPreferencesForm(posted_data(request), addressed=addressed,
                                initial={"email_events": services.email_events_of(request.user)})
    if form.is_valid():
        services.email_preferences_update(actor=Actor.from_user(request.user),
                                          email_events=form.cleaned_data["email_events"])
        messages.success(request, "Your email notifications are saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form, "addressed": addressed})
