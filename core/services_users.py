"""Console users (people who log in), managed by Admins. Not to be confused with IAM users."""
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import Actor, audit_record
from core.permissions import CONSOLE_GROUPS


def console_user_snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "is_active": user.is_active,
        "groups": sorted(user.groups.values_list("name", flat=True)),
    }


@transaction.atomic
def console_user_create(
    *, actor: Actor, username: str, email: str = "", groups=(), password: str = "", is_active: bool = True
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(f"A console user named {username} already exists.")
    user = User(username=username, email=email, is_active=is_active)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.set(Group.objects.filter(name__in=groups))
    audit_record(actor=actor, action="create", object_type="console user", obj=user, after=console_user_snapshot(user))
    return user


@transaction.atomic
def console_user_update(
    *, actor: Actor, console_user: User, username: str, email: str = "", groups=(), password: str = "", is_active: bool = True
) -> User:
    user = User.objects.select_for_update().get(pk=console_user.pk)
    before = console_user_snapshot(user)
    if user.pk == getattr(actor.user, "pk", None) and (not is_active or "Admin" not in groups) and not user.is_superuser:
        raise ValidationError("You cannot remove your own Admin role or deactivate yourself; ask another Admin.")
    if User.objects.filter(username__iexact=username).exclude(pk=user.pk).exists():
        raise ValidationError(f"A console user named {username} already exists.")
    user.username, user.email, user.is_active = username, email, is_active
    if password:
        validate_password(password, user)
        user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.set(Group.objects.filter(name__in=groups))
    after = console_user_snapshot(user)
    if after != before or password:
        audit_record(
            actor=actor,
            action="update",
            object_type="console user",
            obj=user,
            before=before,
            after=after,
            reason="Password changed" if password else "",
        )
    return user


@transaction.atomic
def console_user_sync_from_sso(*, console_user: User | None, username: str, email: str, groups) -> User:
    """Create or update the console user an identity provider signed in (core/sso.py).

    1. Create the user without a usable password (they sign in through the IdP), or lock its row.
    2. Set the e-mail address, and make its console groups exactly ``groups``; any other group stays.
    3. Write one audit row, as the user, when anything changed.
    """
    if console_user is None:
        user, before = User(username=username, email=email), None
        user.set_unusable_password()
        user.full_clean()
        user.save()
    else:
        user = User.objects.select_for_update().get(pk=console_user.pk)
        before = console_user_snapshot(user)
        if email and user.email != email:
            user.email = email
            user.save(update_fields=["email"])
    user.groups.remove(*Group.objects.filter(name__in=CONSOLE_GROUPS).exclude(name__in=groups))
    user.groups.add(*Group.objects.filter(name__in=groups))
    after = console_user_snapshot(user)
    if after != before:
        audit_record(
            actor=Actor.from_user(user),
            action="create" if before is None else "update",
            object_type="console user",
            obj=user,
            before=before,
            after=after,
            reason="Single sign-on: console roles from the identity provider's groups",
        )
    return user
