"""Optional single sign-on through OpenID Connect (mozilla-django-oidc).

Off unless ``OIDC_RP_CLIENT_ID`` is set: then settings add :class:`ConsoleOIDCBackend` and the
site's URLs add ``/oidc/``. People are matched to console users by the ``OIDC_USERNAME_CLAIM``
claim, normalised (NFKC) and exactly, never to a superuser or staff account; a new name is created
on first sign-in (without a usable password) unless it looks like an existing one. On every sign-in
the IdP's group claim (``OIDC_GROUPS_CLAIM``) decides the console roles through ``OIDC_GROUP_MAP``
(``idp-admins=Admin,idp-approvers=Approver,...``): console groups the claim no longer gives are
taken away.
"""
from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation, ValidationError
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from console import services_users
from core import usernames
from core.permissions import CONSOLE_GROUPS

GroupMap = dict[str, frozenset[str]]


def enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def parse_group_map(text: str) -> GroupMap:
    """``"idp-admins=Admin, idp-ops=Editor, idp-ops=Approver"`` → IdP group → console groups.

    The last ``=`` of an entry separates the two, so an IdP group name may contain ``=``.
    """
    mapping: dict[str, set[str]] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        idp_group, separator, console_group = (piece.strip() for piece in entry.rpartition("="))
        if not separator or not idp_group or console_group not in CONSOLE_GROUPS:
            raise ImproperlyConfigured(
                f"OIDC_GROUP_MAP entry {entry!r} must read IDP_GROUP=CONSOLE_GROUP, "
                f"the console group one of {', '.join(CONSOLE_GROUPS)}."
            )
        mapping.setdefault(idp_group, set()).add(console_group)
    return {idp_group: frozenset(groups) for idp_group, groups in mapping.items()}


def console_groups_from_claims(claims: dict, *, claim: str, group_map: GroupMap) -> frozenset[str]:
    """The console groups the IdP's group claim gives (a list of names, or one name)."""
    value = claims.get(claim)
    idp_groups = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []
    return frozenset(
        console_group
        for idp_group in idp_groups
        if isinstance(idp_group, str)
        for console_group in group_map.get(idp_group, ())
    )


class ConsoleOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow; users and their console roles come from the claims."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.group_map = parse_group_map(settings.OIDC_GROUP_MAP)

    def username_from(self, claims: dict) -> str:
        value = claims.get(settings.OIDC_USERNAME_CLAIM)
        return usernames.normalise(value) if isinstance(value, str) else ""

    def verify_claims(self, claims) -> bool:
        username = self.username_from(claims)
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            return False
        return 0 < len(username) <= 150

    def filter_users_by_claims(self, claims):
        # The exact (normalised) name only: "Root" must not sign in as "root". A superuser or staff
        # account is never matched; a claim naming one then fails to create a look-alike.
        return self.UserModel.objects.filter(username=self.username_from(claims), is_superuser=False, is_staff=False)

    def describe_user_by_claims(self, claims) -> str:
        return f"user name {self.username_from(claims)!r}"

    def create_user(self, claims):
        return self._sync(None, claims)

    def update_user(self, user, claims):
        return self._sync(user, claims)

    def _sync(self, user, claims):
        email = claims.get("email")
        try:
            return services_users.console_user_sync_from_sso(
                console_user=user,
                username=self.username_from(claims),
                email=email if isinstance(email, str) else "",
                groups=console_groups_from_claims(claims, claim=settings.OIDC_GROUPS_CLAIM, group_map=self.group_map),
            )
        except ValidationError as error:
            # mozilla-django-oidc turns this into a failed sign-in (and the login page's message).
            raise SuspiciousOperation(f"Single sign-on refused {self.describe_user_by_claims(claims)}: "
                                      f"{' '.join(error.messages)}") from None


def check_sso_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """``manage.py check`` (and ``migrate``) name a bad OIDC_GROUP_MAP before anyone tries to sign in."""
    if not enabled():
        return []
    try:
        group_map = parse_group_map(settings.OIDC_GROUP_MAP)
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="rolemodel.E001")]
    if not group_map:
        return [checks.Warning("OIDC_GROUP_MAP is empty: people signing in through the IdP get no console role.",
                               id="rolemodel.W001")]
    return []
