"""moto's server, taught one more thing AWS does: replacing an IAM role when a stack update changes
its ``RoleName`` or ``Path``.

CloudFormation cannot rename a role in place: it creates the role under the new name, points the
resources that refer to it (the ``AWS::IAM::Policy`` resources' ``Roles``) at the new role, and
deletes the old one. moto 5.2.5 calls UpdateRole with the new name instead, which fails with
``NoSuchEntity: Role <new name> not found``, so a confirmed rename could not be applied in the fake
AWS at all.

And one more: credentials it issued stay valid after ``POST /moto-api/reset``, as credentials AWS
issued stay valid whatever happens to the account's resources. moto forgets which account an
assumed role's access key belongs to when it is reset, and a process that still holds those
credentials (a worker serving several tests) then silently lands in the default account
123456789012 — which the console, rightly, refuses as the wrong account. Everything else is moto's
own behaviour.

Run as a script, this file *is* the server: ``python devtools/moto_server.py -H 127.0.0.1 -p 0``
(the arguments of ``moto_server``).
"""
from __future__ import annotations

import sys


def teach_role_replacement() -> None:
    from moto.iam import models as iam_models
    from moto.utilities.utils import get_partition

    role_class = iam_models.Role
    update_in_place = role_class.update_from_cloudformation_json.__func__

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                                        region_name):
        properties = cloudformation_json["Properties"]
        # Without RoleName CloudFormation keeps the name it gave; a RoleName that differs, or
        # another Path, makes a new role (createOnlyProperties of AWS::IAM::Role).
        name = properties.get("RoleName", original_resource.name)
        path = properties.get("Path", "/")
        if name == original_resource.name and path == original_resource.path:
            return update_in_place(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                                   region_name)
        backend = iam_models.iam_backends[account_id][get_partition(region_name)]
        replacement = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        for policy in backend.inline_policies.values():
            if original_resource.name in (policy.role_names or []):
                policy.role_names = [replacement.name if role == original_resource.name else role
                                     for role in policy.role_names]
                backend.put_role_policy(replacement.name, policy.policy_name, policy.policy_document)
        cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
        return replacement

    role_class.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)


def keep_issued_credentials_across_resets() -> None:
    from moto.iam import models as iam_models

    resolve = iam_models.get_account_id_from
    known: dict[str, str] = {}

    def get_account_id_from(access_key: str) -> str:
        account_id = resolve(access_key)
        if account_id != iam_models.DEFAULT_ACCOUNT_ID:
            known[access_key] = account_id
            return account_id
        return known.get(access_key, account_id)

    iam_models.get_account_id_from = get_account_id_from


def main(argv: list[str]) -> None:
    teach_role_replacement()
    keep_issued_credentials_across_resets()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
