"""The original tool's files for a small world: one role (ReadOnlyRole, MFA required) and one member in
every account, each account reached through the profile of its own name. The fault tests
(tests/faults_world.py) and the pinned-target tests (tests/pinned_world.py) import the same world
into different accounts.
"""
from pathlib import Path

ROLE = "ReadOnlyRole"
ROLES = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  AssumingAccountID:
    Type: String
Resources:
  ReadOnlyRole:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: 3600
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              AWS: !Sub 'arn:aws:iam::${AssumingAccountID}:root'
            Action: sts:AssumeRole
            Condition:
              'Null':
                aws:MultiFactorAuthAge: 'false'
  ReadOnlyRolePolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: ReadOnlyAccess
      Roles: [!Ref ReadOnlyRole]
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Action: ['cloudformation:Describe*', 'iam:Get*']
            Resource: '*'
"""


def config_text(*, stack: str, master_id: str, accounts: dict[str, str]) -> str:
    """config.yml: ``accounts`` maps each assumable account's name (and profile) to its id."""
    listed = "".join(f"  - name: {name}\n    profile: {name}\n    account_id: '{account_id}'\n"
                     for name, account_id in accounts.items())
    return (f"---\nassumable_roles: roles.yml\nstack_name: {stack}\nmaster_account_id: '{master_id}'\n"
            f"master_account_profile: master\nassumable_accounts:\n{listed}")


def users_text(*, accounts, member: str) -> str:
    """users.yml: ``member`` holds the role in every one of ``accounts`` (names)."""
    return "".join(f"{name}:\n  {ROLE}:\n    - {member}\n" for name in accounts)


def write_world_files(directory: Path, *, stack: str, master_id: str, accounts: dict[str, str],
                      member: str) -> tuple[Path, Path]:
    """roles.yml, config.yml and users.yml in ``directory``; returns the paths of config.yml and users.yml."""
    (directory / "roles.yml").write_text(ROLES)
    (directory / "config.yml").write_text(config_text(stack=stack, master_id=master_id, accounts=accounts))
    (directory / "users.yml").write_text(users_text(accounts=accounts, member=member))
    return directory / "config.yml", directory / "users.yml"
