"""Console users (people who log in), managed by Admins. Not to be confused with IAM users.

The boundaries every path here keeps (the console pages, single sign-on, the demo script):
* names are normalised (NFKC) and refused when they could be mistaken for another (core/usernames.py);
* only a superuser changes a superuser or staff account (they reach /django-admin/);
* a person gives only the groups whose powers they hold themselves, and sets the password only of
  someone whose groups they could have given;
* the last active Admin stays an Admin, even when two Admins demote each other at the same moment.
Django's admin cannot change users or groups (core/admin.py), so every change is audited here.
"""
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import Actor, audit_record
from core import usernames
from core.permissions import ADMIN, CONSOLE_GROUPS, can_grant, has_capability


def console_user_snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "is_active": user.is_active,
        "groups": sorted(user.groups.values_list("name", flat=True)),
    }


def _lock_console_users() -> None:
    """Take the lock every change to console users holds until its transaction ends.

    The Admin group's row is the lock: two Admins demoting each other at once are serialised here,
    so the second sees the first one's change when it counts the Admins left. (On SQLite, whose
    transactions here take the write lock when they begin, they are serialised already.)
    """
    list(Group.objects.select_for_update().filter(name=ADMIN))


def _acting_user(actor: Actor) -> User | None:
    """The actor's row as it is now, inside the lock: a demotion that committed meanwhile counts.

    None for a system actor: someone with a shell on the server (scripts/demo.py), who could run
    ``createsuperuser`` anyway.
    """
    if actor.user is None:
        return None
    user = User.objects.filter(pk=actor.user.pk).first()
    if user is None or not has_capability(user, "manage_users"):
        raise PermissionDenied("You no longer manage console users: your roles changed a moment ago.")
    return user


def _is_privileged(user: User) -> bool:
    return user.is_superuser or user.is_staff


def _privilege_refusal(acting: User | None, target: User | None, *, added_groups, password: str,
                       target_groups=()) -> str:
    if acting is None:
        return ""
    if target is not None and _is_privileged(target) and not acting.is_superuser:
        return "Only a superuser may change a superuser or staff account."
    for group in sorted(added_groups):
        if not can_grant(acting, group):
            return f"You cannot give the {group} group: you do not hold it yourself."
    if password and target is not None and target.pk != acting.pk:
        beyond = sorted(group for group in target_groups if group in CONSOLE_GROUPS and not can_grant(acting, group))
        if beyond:
            # Knowing their password would give the actor those groups after all.
            return (f"{target.username} holds {', '.join(beyond)}, which you do not hold; "
                    "only a person who holds it may set their password.")
    return ""


def _clean_username(username: str, *, user: User | None) -> str:
    name = usernames.normalise(username)
    if user is not None and name == user.username:
        return name  # unchanged: a name accepted before these checks existed stays usable
    others = User.objects.all() if user is None else User.objects.exclude(pk=user.pk)
    problem = usernames.username_problem(name, existing=others.values_list("username", flat=True).iterator())
    if problem:
        raise ValidationError({"username": [problem]})
    return name


def _refuse_removing_the_last_admin(user: User, *, was_admin: bool, stays_admin: bool) -> None:
    if was_admin and not stays_admin:
        if not User.objects.filter(groups__name=ADMIN, is_active=True).exclude(pk=user.pk).exists():
            raise ValidationError(
                f"{user.username} is the last Admin. Make another person an Admin first, "
                "so that someone can still manage console users."
            )


@transaction.atomic
def console_user_create(
    *, actor: Actor, username: str, email: str = "", groups=(), password: str = "", is_active: bool = True
) -> User:
    _lock_console_users()
    acting = _acting_user(actor)
    refusal = _privilege_refusal(acting, None, added_groups=set(groups), password=password)
    if refusal:
        raise ValidationError(refusal)
    user = User(username=_clean_username(username, user=None), email=email, is_active=is_active)
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
    """Change a console user.

    1. Lock console users, then re-read the actor (still an Admin?) and the user's row.
    2. Refuse what crosses a privilege boundary: a superuser or staff account changed by someone
       else than a superuser, a group given that the actor does not hold, a password set for
       someone holding such a group, the actor's own Admin role, the last Admin.
    3. Save, and write one audit row naming a rename and a password change.
    """
    _lock_console_users()
    acting = _acting_user(actor)
    user = User.objects.select_for_update().get(pk=console_user.pk)
    before = console_user_snapshot(user)
    added_groups = set(groups) - set(before["groups"])
    refusal = _privilege_refusal(acting, user, added_groups=added_groups, password=password,
                                 target_groups=before["groups"])
    if refusal:
        raise ValidationError(refusal)
    if acting is not None and user.pk == acting.pk and (not is_active or ADMIN not in groups) and not user.is_superuser:
        raise ValidationError("You cannot remove your own Admin role or deactivate yourself; ask another Admin.")
    _refuse_removing_the_last_admin(user, was_admin=user.is_active and ADMIN in before["groups"],
                                    stays_admin=is_active and ADMIN in groups)
    new_username = _clean_username(username, user=user)
    user.username, user.email, user.is_active = new_username, email, is_active
    if password:
        validate_password(password, user)
        user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.set(Group.objects.filter(name__in=groups))
    after = console_user_snapshot(user)
    if after != before or password:
        reasons = []
        if after["username"] != before["username"]:
            # Four eyes compare ids, so a rename changes nothing about what this person may approve.
            reasons.append(f"Renamed from {before['username']} to {after['username']}")
        if password:
            reasons.append("Password changed")
        audit_record(
            actor=actor,
            action="update",
            object_type="console user",
            obj=user,
            before=before,
            after=after,
            reason="; ".join(reasons),
        )
    return user


@transaction.atomic
def console_user_sync_from_sso(*, console_user: User | None, username: str, email: str, groups) -> User:
    """Create or update the console user an identity provider signed in (console/sso.py).

    1. Create the user without a usable password (they sign in through the IdP), with a name that
       cannot be mistaken for an existing one; or lock its row, refusing a superuser or staff account.
    2. Set the e-mail address, and make its console groups exactly ``groups``; any other group stays.
    3. Write one audit row, as the user, when anything changed.
    """
    _lock_console_users()
    if console_user is None:
        user, before = User(username=_clean_username(username, user=None), email=email), None
        user.set_unusable_password()
        user.full_clean()
        user.save()
    else:
        user = User.objects.select_for_update().get(pk=console_user.pk)
        if _is_privileged(user):
            raise ValidationError("Single sign-on never signs in a superuser or staff account.")
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
