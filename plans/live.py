"""The original tool's ``list``: every account's roles and their ARNs, read from AWS now."""
from accounts.models import AssumableAccount, MasterAccount
from integrations import aws, parallel
from accounts.access import account_access
from plans import targets
from roles.models import RoleDefinition


def live_roles() -> dict:
    """{"accounts": [{"name", "account_id", "stack", "roles": [{"logical_id", "role_name", "arn"}], "error", "note"}],
    "api_calls": {...}}

    Accounts come in the order they were imported or created, as the original tool followed its config file.
    """
    master = MasterAccount.load()
    accounts = list(AssumableAccount.objects.filter(enabled=True).order_by("pk"))
    counter = aws.CallCounter()
    paths = dict(RoleDefinition.objects.values_list("logical_name", "path"))

    def read(account):
        entry = {"name": account.name, "account_id": account.account_id, "stack": False, "roles": [], "error": "",
                 "note": ""}
        access = account_access(account, master)
        try:
            # Another account's roles shown under this account's name would mislead whoever reads them.
            reached = aws.caller_account_id(access, counter)
            wrong = account.account_id and targets.mismatch(
                label=account.name, reached=reached, expected=account.account_id, outcome="its roles are not shown",
                expected_as="the console records it as")
            if wrong:
                entry["error"] = wrong
                return entry
            for role in aws.stack_roles(access, counter, stack_name=master.stack_name):
                entry["roles"].append({
                    "logical_id": role["logical_id"],
                    "role_name": role["role_name"],
                    "arn": f"arn:aws:iam::{reached}:role{paths.get(role['logical_id'], '/')}{role['role_name']}",
                })
            entry["stack"] = True
        except aws.AwsError as error:
            if aws.is_missing_stack(error):
                entry["note"] = "No stack yet."
            else:
                entry["error"] = str(error)
        return entry

    entries = parallel.run_all({account.pk: (lambda account=account: read(account)) for account in accounts},
                               limit=parallel.read_concurrency())
    report = [entries[account.pk] for account in accounts]
    return {"accounts": report, "api_calls": counter.as_dict()}
