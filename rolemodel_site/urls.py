from django.contrib import admin
from django.urls import include, path

from console import sso
from core.atomic_requests import wrap_url_patterns
from core.forms import LoginForm
from core.redirects import LoginView, LogoutView

urlpatterns = [
    path(
        "login/",
        LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("", include("console.urls")),
    path("", include("core.urls")),
    path("accounts/", include("accounts.urls")),
    path("roles/", include("roles.urls")),
    path("memberships/", include("memberships.urls")),
    path("audit/", include("audit.urls")),
    path("plans/", include("plans.urls")),
    path("drift/", include("drift.urls")),
    path("notifications/", include("notifications.urls")),
    path("django-admin/", admin.site.urls),
]
if sso.enabled():  # optional single sign-on: without OIDC_RP_CLIENT_ID these URLs do not exist
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

# Every POST/PUT/PATCH/DELETE view runs in one transaction (core/atomic_requests.py explains why not ATOMIC_REQUESTS).
wrap_url_patterns(urlpatterns)
