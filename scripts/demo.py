"""``make demo``: the whole console on this machine, against a fake AWS, from a fresh var/demo/.

1. Start the fake AWS (the moto server) and write AWS profiles for its accounts to var/demo/aws/.
2. Create the sample IAM users (samples/users.yml) in the fake master account.
3. Migrate a fresh SQLite database, create one console user per role with a random password.
4. Import the samples (samples/config.yml, its roles template and samples/users.yml).
5. Change one thing in the fake AWS behind the console's back (a /RoleModel/ group nobody asked for,
   with a member) and queue a drift check, which shows it on the Drift page once the worker runs.
6. Start a Celery worker (with beat, on the file broker) and the development web server.
7. Print the address and the logins; on Ctrl-C or SIGTERM stop everything it started.

Nothing but the project's virtualenv is needed: no database or broker server.
"""
from __future__ import annotations

import io
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from core.safe_yaml import YAMLInputError, load_yaml  # noqa: E402

from devtools.fake_aws import DEFAULT_ACCOUNTS, FakeAwsAccounts, create_iam_users, start_fake_accounts  # noqa: E402
from devtools.processes import (  # noqa: E402
    ManagedProcess,
    ProcessStartError,
    free_port,
    start_celery_worker,
    start_runserver,
    stop_all,
)

DEMO_DIR = PROJECT_ROOT / "var" / "demo"
LOG_DIR = DEMO_DIR / "logs"
PID_FILE = DEMO_DIR / "demo.pid"
SAMPLES = PROJECT_ROOT / "samples"
SAMPLE_CONFIG = SAMPLES / "config.yml"
SAMPLE_USERS = SAMPLES / "users.yml"
PREFERRED_PORT = 8000
# What the demo changes in the fake master account behind the console's back, for the drift check to find.
HAND_MADE_GROUP = "prod.BreakGlass"
ADMIN_USERNAME = "admin"
# (username, console group): one person per role, and a second approver for the four-eyes rule.
CONSOLE_USERS = [
    ("viewer", "Viewer"),
    ("editor", "Editor"),
    ("approver", "Approver"),
    ("approver2", "Approver"),
    (ADMIN_USERNAME, "Admin"),
]


class DemoError(Exception):
    """A step failed in a way the person running the demo can act on."""


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def refuse_if_already_running() -> None:
    try:
        pid = int(PID_FILE.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    except PermissionError:
        pass
    raise DemoError(f"A demo is already running (process {pid}); stop it with Ctrl-C first.")


def fresh_demo_dir() -> None:
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    PID_FILE.write_text(str(os.getpid()))


def read_yaml(path: Path):
    try:
        return load_yaml(path.read_text(encoding="utf-8"), source=shown(path))
    except YAMLInputError as error:
        raise DemoError(f"{shown(path)} is not valid YAML: {error}") from None


def account_map(config_path: Path) -> dict[str, str]:
    """Profile name → account id, as the sample config names them (the defaults fill gaps)."""
    accounts = dict(DEFAULT_ACCOUNTS)
    if not config_path.exists():
        return accounts
    config = read_yaml(config_path) or {}
    if config.get("master_account_profile") and config.get("master_account_id"):
        accounts[str(config["master_account_profile"])] = str(config["master_account_id"])
    for account in config.get("assumable_accounts") or []:
        if isinstance(account, dict) and account.get("profile") and account.get("account_id"):
            accounts[str(account["profile"])] = str(account["account_id"])
    return accounts


def master_profile(config_path: Path) -> str:
    if config_path.exists():
        return str((read_yaml(config_path) or {}).get("master_account_profile") or "master")
    return "master"


def sample_iam_user_names(users_path: Path) -> list[str]:
    """Every IAM user named in a user map (account → role → [users])."""
    names: set[str] = set()
    for roles in (read_yaml(users_path) or {}).values():
        for users in (roles or {}).values():
            names.update(str(user) for user in users or [])
    return sorted(names)


def demo_environment() -> None:
    """This process's environment, inherited by everything it starts: the embedded default, DEBUG on."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="rolemodel_site.settings",
        DEBUG="true",
        ROLEMODEL_VAR_DIR=str(DEMO_DIR),
        # Explicit, so a developer's .env or shell pointing elsewhere cannot leak into the demo.
        DATABASE_URL=f"sqlite:///{DEMO_DIR / 'rolemodel.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        PYTHONUNBUFFERED="1",
    )


def warm_up_quietly(fake_aws: FakeAwsAccounts) -> None:
    try:
        fake_aws.server.warm_up_cloudformation()
    except Exception:  # only a head start: the first real call would pay the same cost
        pass


def shown(path: Path) -> str:
    """A path as the person at the terminal would type it."""
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def say(message: str) -> None:
    print(message, flush=True)


def migrate() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    say("  database migrated")


def create_console_users() -> list[tuple[str, str, str]]:
    """One console user per role, each with a random password; returns (username, role, password)."""
    from audit.models import AuditEvent
    from audit.services import Actor
    from console.services_users import console_user_create

    actor = Actor.system("system:demo", source=AuditEvent.Source.CLI)
    logins = []
    for username, group in CONSOLE_USERS:
        password = secrets.token_urlsafe(12)
        console_user_create(actor=actor, username=username, email=f"{username}@example.com", groups=[group], password=password)
        logins.append((username, group, password))
    say(f"  console users created: {', '.join(username for username, _ in CONSOLE_USERS)}")
    return logins


def import_samples() -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    if not SAMPLE_CONFIG.exists():
        say(f"  ! {shown(SAMPLE_CONFIG)} is missing: the console starts empty.")
        return
    argv = ["rolemodel", "import", str(SAMPLE_CONFIG), "--as", ADMIN_USERNAME]
    if SAMPLE_USERS.exists():
        argv[3:3] = ["--users", str(SAMPLE_USERS)]
    output = io.StringIO()
    log_path = LOG_DIR / "import.log"
    try:
        with redirect_stdout(output):
            call_command(*argv, stdout=output)
    except CommandError as error:
        log_path.write_text(output.getvalue() + f"\n{error}\n")
        say(f"  ! the sample import failed (the console starts empty); see {shown(log_path)}:")
        say("    " + str(error).splitlines()[0])
        return
    log_path.write_text(output.getvalue())
    summary = output.getvalue().strip().splitlines()[-1:] or ["done"]
    say(f"  samples imported: {summary[0]} (report in {shown(log_path)})")


def change_aws_behind_the_console(fake_aws: FakeAwsAccounts, iam_users: list[str]) -> None:
    """Make one hand change in the fake master account and queue a drift check that finds it."""
    from audit.models import AuditEvent
    from audit.services import Actor
    from drift.services import drift_check_request

    iam = fake_aws.session(master_profile(SAMPLE_CONFIG)).client("iam")
    iam.create_group(GroupName=HAND_MADE_GROUP, Path="/RoleModel/")
    member = f" with member {iam_users[0]}" if iam_users else ""
    if iam_users:
        iam.add_user_to_group(GroupName=HAND_MADE_GROUP, UserName=iam_users[0])
    say(f"  behind the console's back: created the IAM group /RoleModel/{HAND_MADE_GROUP}{member} in the fake AWS")
    check, _ = drift_check_request(actor=Actor.system("system:demo", source=AuditEvent.Source.CLI))
    say(f"  drift check #{check.pk} queued: the Drift page lists the change once the worker has run it")


def print_banner(url: str, fake_aws: FakeAwsAccounts, logins: list[tuple[str, str, str]]) -> None:
    width = max(len(username) for username, _, _ in logins)
    say("")
    say(f"Rolemodel Console demo: {url}")
    say("")
    say("Logins (shown once, stored only as password hashes):")
    for username, group, password in logins:
        say(f"  {username.ljust(width)}  {password}   ({group})")
    say("")
    say(f"Fake AWS (moto server): {fake_aws.endpoint_url}   profiles in {fake_aws.profiles.config_file.parent}")
    say(f"Drift: {url}drift/ lists the group made behind the console's back (check again there, or wait for the schedule)")
    say(f"Logs: {LOG_DIR}")
    say("Press Ctrl-C to stop.")


def watch(processes: list[ManagedProcess]) -> None:
    """Return only by KeyboardInterrupt (Ctrl-C, SIGTERM); raise if a process dies under us."""
    while True:
        for process in processes:
            if not process.is_running():
                raise DemoError(
                    f"{process.name} stopped unexpectedly (status {process.popen.returncode}). "
                    f"Its log ({process.log_path}):\n{process.log_tail()}"
                )
        time.sleep(0.5)


def run() -> int:
    # Also SIGINT: a shell starting us in the background may have left it ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started: list[ManagedProcess] = []
    try:
        refuse_if_already_running()
        fresh_demo_dir()
        demo_environment()

        say("Starting the fake AWS…")
        try:
            fake_aws = start_fake_accounts(DEMO_DIR, accounts=account_map(SAMPLE_CONFIG), log_path=LOG_DIR / "moto.log")
        except ValueError as error:  # an account id in the sample config that no profile can use
            raise DemoError(f"{shown(SAMPLE_CONFIG)}: {error}") from None
        started.append(fake_aws.server.process)
        os.environ.update(fake_aws.variables)
        iam_users = sample_iam_user_names(SAMPLE_USERS) if SAMPLE_USERS.exists() else []
        if iam_users:
            created = create_iam_users(fake_aws.session(master_profile(SAMPLE_CONFIG)), iam_users)
            say(f"  {len(created)} IAM users created in the fake master account")
        # The first CloudFormation call costs seconds; pay it while the rest starts.
        threading.Thread(target=warm_up_quietly, args=(fake_aws,), daemon=True).start()

        say("Preparing the database…")
        migrate()

        web_port = free_port(PREFERRED_PORT)
        # Links in notifications (emails go to worker.log through Django's console backend) lead to this server.
        os.environ["ROLEMODEL_BASE_URL"] = f"http://127.0.0.1:{web_port}"
        # Both boot (a few seconds each) while the users are created and the samples imported.
        worker = start_celery_worker(
            env=os.environ,
            log_path=LOG_DIR / "worker.log",
            node_name="demo",
            beat_schedule_file=DEMO_DIR / "celerybeat-schedule",
            wait=False,
        )
        started.append(worker.process)
        web = start_runserver(env=os.environ, log_path=LOG_DIR / "web.log", port=web_port, wait=False)
        started.append(web.process)

        logins = create_console_users()
        import_samples()
        change_aws_behind_the_console(fake_aws, iam_users)
        from django.db import connections

        connections.close_all()  # the worker and the web server write to this SQLite file from now on

        say("Waiting for the worker and the web server…")
        worker.wait_until_ready()
        web.wait_until_ready()

        print_banner(web.url, fake_aws, logins)
        watch(started)
    except KeyboardInterrupt:
        say("\nStopping… (the worker first finishes any task it is running)")
        return 0
    except (DemoError, ProcessStartError) as error:
        say(f"\nThe demo stopped: {error}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(list(reversed(started)))
        if PID_FILE.exists() and PID_FILE.read_text().strip() == str(os.getpid()):
            PID_FILE.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(run())
