"""How the console reaches each account: our models turned into the AWS module's descriptions."""
from accounts.models import AssumableAccount, MasterAccount
from integrations.aws import AccountAccess


def master_access(master: MasterAccount) -> AccountAccess:
    return AccountAccess(label="master", region=master.region, profile=master.profile)


def account_access(account: AssumableAccount, master: MasterAccount) -> AccountAccess:
    if account.role_arn:
        return AccountAccess(
            label=account.name,
            region=master.region,
            role_arn=account.role_arn,
            external_id=account.external_id,
            via=master_access(master),
        )
    return AccountAccess(label=account.name, region=master.region, profile=account.profile)
