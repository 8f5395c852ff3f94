"""The original tool's ``config.yml``: master account, stack name, assumable accounts, template path.

Keys beyond the original ones (``master_account_region``; per account ``account_id``, ``role_arn``,
``external_id``, ``enabled``, ``description``) are this console's extensions, written by the export.
"""
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError

from accounts.models import AssumableAccount, MasterAccount
from core import limits
from interchange.importing.problems import Problems
from interchange.importing.values import (
    describe_type,
    expect_bool,
    expect_document,
    expect_list,
    expect_text,
    unknown_keys,
)

CONFIG_KEYS = (
    "assumable_roles",
    "stack_name",
    "master_account_id",
    "master_account_profile",
    "master_account_region",
    "assumable_accounts",
)
REQUIRED_CONFIG_KEYS = ("assumable_roles", "master_account_id", "assumable_accounts")
ACCOUNT_KEYS = ("name", "profile", "account_id", "role_arn", "external_id", "enabled", "description")
MASTER_KEYS_TO_FIELDS = {
    "master_account_id": "account_id",
    "master_account_profile": "profile",
    "master_account_region": "region",
    "stack_name": "stack_name",
}
MASTER_FIELD_LABELS = {field_name: key for key, field_name in MASTER_KEYS_TO_FIELDS.items()}
CREDENTIAL_KEYS = ("profile", "role_arn", "external_id")


@dataclass
class AccountSpec:
    name: str
    # Model fields the file sets. The credentials (profile, role_arn, external_id) are set together.
    fields: dict
    where: str


@dataclass
class ConfigSpec:
    template_path: Path | None = None
    master_fields: dict = field(default_factory=dict)
    accounts: list[AccountSpec] = field(default_factory=list)

    @property
    def master_account_id(self) -> str:
        return self.master_fields.get("account_id", "")


def parse_config(data, *, path: Path, problems: Problems) -> ConfigSpec:
    source = str(path)
    spec = ConfigSpec()
    data = expect_document(data, where=source, problems=problems,
                           needs=f"it needs at least {', '.join(REQUIRED_CONFIG_KEYS)}.")
    if data is None:
        return spec
    unknown_keys(data, CONFIG_KEYS, where=source, problems=problems)
    for key in REQUIRED_CONFIG_KEYS:
        if key not in data:
            problems.add(f"{source}: the key “{key}” is missing.")

    if "assumable_roles" in data:
        relative = expect_text(data["assumable_roles"], where=f"{source}, assumable_roles", problems=problems)
        if relative is not None:
            if not relative.strip():
                problems.add(f"{source}, assumable_roles: give the path of the CloudFormation template.")
            else:
                spec.template_path = path.parent / relative
    spec.master_fields = _master_fields(data, source=source, problems=problems)
    if "assumable_accounts" in data:
        entries = expect_list(data["assumable_accounts"], where=f"{source}, assumable_accounts", problems=problems)
        spec.accounts = _accounts(entries or [], source=source, problems=problems)
    return spec


def _master_fields(data: dict, *, source: str, problems: Problems) -> dict:
    fields = {}
    for key, field_name in MASTER_KEYS_TO_FIELDS.items():
        if key not in data:
            continue
        value = data[key]
        if key == "master_account_id" and value in (None, ""):
            continue  # "not known yet": leaves whatever the console has
        text = expect_text(value, where=f"{source}, {key}", problems=problems, number_allowed=key == "master_account_id")
        if text is not None:
            fields[field_name] = text.strip()
    master = MasterAccount(**fields)
    if "account_id" in fields:
        try:
            limits.validate_account_id(fields["account_id"])
        except ValidationError as error:
            problems.add_validation_error(f"{source}, master_account_id", error)
    try:
        master.clean_fields(exclude=["account_id", "group_quota"])
        master.clean()
    except ValidationError as error:
        problems.add_validation_error(source, error, field_labels=MASTER_FIELD_LABELS)
    return fields


def _accounts(entries: list, *, source: str, problems: Problems) -> list[AccountSpec]:
    accounts = []
    names_seen, ids_seen = {}, {}
    for number, entry in enumerate(entries, start=1):
        where = f"{source}, assumable_accounts entry {number}"
        if not isinstance(entry, dict):
            problems.add(f"{where}: expected a mapping with name and profile, found {describe_type(entry)}.")
            continue
        if isinstance(entry.get("name"), str) and entry["name"]:
            where = f"{where} (“{entry['name']}”)"
        unknown_keys(entry, ACCOUNT_KEYS, where=where, problems=problems)
        account = _account(entry, where=where, problems=problems)
        if account is None:
            continue
        previous = names_seen.get(account.name.lower())
        if previous is not None:
            problems.add(
                f"{where}: the account “{account.name}” is listed twice (also entry {previous}); "
                "account names are compared without case."
            )
            continue
        names_seen[account.name.lower()] = number
        account_id = account.fields.get("account_id")
        if account_id:
            if account_id in ids_seen:
                problems.add(f"{where}: the account id {account_id} is also given for “{ids_seen[account_id]}”.")
            ids_seen[account_id] = account.name
        accounts.append(account)
    return accounts


def _account(entry: dict, *, where: str, problems: Problems) -> AccountSpec | None:
    if "name" not in entry:
        problems.add(f"{where}: the key “name” is missing.")
        return None
    name = expect_text(entry["name"], where=f"{where}, name", problems=problems)
    fields = {"name": name}
    for key in ("account_id", "description"):
        if key in entry and entry[key] is not None:
            fields[key] = expect_text(
                entry[key], where=f"{where}, {key}", problems=problems, number_allowed=key == "account_id"
            )
    if "enabled" in entry:
        fields["enabled"] = expect_bool(entry["enabled"], where=f"{where}, enabled", problems=problems)
    if not any(key in entry for key in ("profile", "role_arn")):
        problems.add(f"{where}: give “profile” (a named AWS profile) or “role_arn” so the console can reach the account.")
        return None
    for key in CREDENTIAL_KEYS:
        value = entry.get(key)
        fields[key] = "" if value is None else expect_text(value, where=f"{where}, {key}", problems=problems)
    if any(value is None for value in fields.values()):
        return None
    account = AssumableAccount(**fields)
    valid = True
    if fields.get("account_id"):
        try:
            limits.validate_account_id(fields["account_id"])
        except ValidationError as error:
            problems.add_validation_error(f"{where}, account_id", error)
            valid = False
    try:
        # name and account_id are checked by clean() and limits, whose messages say more than max_length's.
        account.clean_fields(exclude=["name", "account_id"])
        account.clean()
    except ValidationError as error:
        problems.add_validation_error(where, error)
        return None
    if not valid:
        return None
    return AccountSpec(name=name, fields=fields, where=where)
