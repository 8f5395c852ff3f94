"""Export the desired state as the original ``rolemodel`` tool's files: config.yml, roles.cf, users.yml.

The files keep the original formats, so the original tool can still read them; settings it does
not know (account ids, role ARNs, disabled accounts, the master region) are written as extra keys
only when set, and roles limited to some accounts carry that list in their ``Metadata``. Importing
the three files into an empty console gives back the same state.
"""
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from accounts.models import AssumableAccount, MasterAccount
from memberships.models import Membership
from roles.cloudformation import build_template
from roles.selectors import roles_with_policies

CONFIG_FILE = "config.yml"
TEMPLATE_FILE = "roles.cf"
USERS_FILE = "users.yml"
EXPORT_FILES = (CONFIG_FILE, TEMPLATE_FILE, USERS_FILE)


class ExportRefused(Exception):
    pass


@dataclass
class ExportResult:
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def config_document() -> dict:
    # filter() rather than MasterAccount.load(): an export must not write anything.
    master = MasterAccount.objects.filter(pk=1).first() or MasterAccount()
    config = {
        "assumable_roles": TEMPLATE_FILE,
        "stack_name": master.stack_name,
        "master_account_id": master.account_id,
        "master_account_profile": master.profile,
    }
    if master.region != MasterAccount._meta.get_field("region").default:
        config["master_account_region"] = master.region
    accounts = []
    for account in AssumableAccount.objects.order_by("name"):
        entry = {"name": account.name}
        for key in ("profile", "role_arn", "external_id", "account_id", "description"):
            if getattr(account, key):
                entry[key] = getattr(account, key)
        if not account.enabled:
            entry["enabled"] = False
        accounts.append(entry)
    config["assumable_accounts"] = accounts
    return config


def template_text() -> str:
    template = build_template(list(roles_with_policies()), include_account_metadata=True)
    return json.dumps(template, indent=4) + "\n"


def user_map_document() -> dict:
    user_map = {}
    memberships = Membership.objects.select_related("iam_user", "account", "role").order_by(
        "account__name", "role__logical_name", "iam_user__user_name"
    )
    for membership in memberships:
        roles = user_map.setdefault(membership.account.name, {})
        users = roles.setdefault(membership.role.logical_name, [])
        if membership.iam_user.user_name not in users:  # two grants of one group: one line, as IAM holds it
            users.append(membership.iam_user.user_name)
    return user_map


def _yaml_text(document: dict) -> str:
    return yaml.safe_dump(document, explicit_start=True, default_flow_style=False, sort_keys=False, allow_unicode=True)


def export_notes() -> list[str]:
    notes = []
    expiring = Membership.objects.filter(expires_at__isnull=False).count()
    if expiring:
        notes.append(
            f"{expiring} membership(s) have an expiry date, which {USERS_FILE} cannot hold; "
            "importing the file would grant them without one."
        )
    return notes


def export_files(directory: Path, *, overwrite: bool = False) -> ExportResult:
    """Write the three files into ``directory`` (created if missing); refuse to replace files unless asked."""
    targets = [directory / name for name in EXPORT_FILES]
    try:
        if directory.exists() and not directory.is_dir():
            raise ExportRefused(f"{directory} exists and is not a directory.")
        existing = [path for path in targets if path.exists()]
        folders = [path for path in existing if path.is_dir()]
    except OSError as error:  # a name too long, say: exists() raises for more than "no such file"
        raise ExportRefused(f"Cannot write to {directory}: {error.strerror}.") from None
    if folders:
        # Refused before the first file is written, so the export is not left half done.
        raise ExportRefused(f"{', '.join(str(path) for path in folders)} is a directory; choose another directory.")
    if existing and not overwrite:
        raise ExportRefused(
            f"{', '.join(str(path) for path in existing)} already exist(s); use --force to replace, "
            "or choose another directory."
        )
    contents = {
        CONFIG_FILE: _yaml_text(config_document()),
        TEMPLATE_FILE: template_text(),
        USERS_FILE: _yaml_text(user_map_document()),
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path in targets:
            _write_atomically(path, contents[path.name])
    except OSError as error:
        raise ExportRefused(f"Cannot write to {error.filename or directory}: {error.strerror}.") from None
    return ExportResult(paths=targets, notes=export_notes())


def _write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it, so a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
