"""The database restarting while the console is in use: a real PostgreSQL server of the test's own,
stopped and started again under a running web server.

Pages show a clear "try again" page (503) while it is away, nothing saved before is lost, and the
console works again once it is back, with the same session.
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from devtools.processes import (
    PROJECT_ROOT,
    VENV_BIN,
    ManagedProcess,
    free_port,
    start_process,
    start_runserver,
    wait_until_ready,
)

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-password-42"


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL's initdb is needed for this test (Debian's postgresql package).")
    return Path(found[-1]).parent


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, on a free port, that the test may stop and start.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user.
    """

    def __init__(self):
        self.bin = _postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="rolemodel-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.process: ManagedProcess | None = None
        os.chmod(self.folder, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/rolemodel"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        runuser = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin")
        if runuser is None:
            pytest.fail("runuser (util-linux) is needed to run PostgreSQL as its own user.")
        return [runuser, "-u", "postgres", "--", *argv]

    def create(self) -> None:
        subprocess.run(
            self._as_owner([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                            "-E", "UTF8", "--no-sync"]),
            check=True, capture_output=True,
        )
        self.start()
        subprocess.run(self._as_owner([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                                       "postgres", "rolemodel"]), check=True, capture_output=True)

    def start(self) -> None:
        argv = self._as_owner([str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                               "-k", str(self.folder), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        self.process = start_process("postgres", argv, env={"PATH": "/usr/bin:/bin"}, log_path=self.folder / "log")
        wait_until_ready(self.process, self._answers, timeout=30, interval=0.1)

    def stop(self) -> None:
        """A fast shutdown (SIGINT): open sessions are ended, as in a restart."""
        import signal

        if self.process is not None and self.process.is_running():
            self.process.signal_group(signal.SIGINT)
            self.process.popen.wait(timeout=30)
        self.process = None

    def _answers(self) -> bool:
        return subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"]).returncode == 0

    def remove(self) -> None:
        if self.process is not None:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def console_on_its_own_database(tmp_path):
    """A web server on a PostgreSQL of its own, migrated, with one Editor: (postgres, base URL)."""
    postgres = ThrowawayPostgres()
    server = None
    try:
        postgres.create()
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DJANGO_"))}
        env.update(DATABASE_URL=postgres.url, ROLEMODEL_VAR_DIR=str(tmp_path / "var"), DEBUG="false",
                   SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false", SECURE_SSL_REDIRECT="false",
                   SECURE_HSTS_SECONDS="0", CELERY_BROKER_URL="filesystem://", DJANGO_SETTINGS_MODULE="rolemodel_site.settings")
        manage = [str(VENV_BIN / "python"), str(PROJECT_ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--no-input"], env=env, check=True, capture_output=True, cwd=PROJECT_ROOT)
        subprocess.run([*manage, "shell", "-c",
                        "from django.contrib.auth.models import Group, User; "
                        f"User.objects.create_user('eddie', password='{PASSWORD}').groups.add(Group.objects.get(name='Editor'))"],
                       env=env, check=True, capture_output=True, cwd=PROJECT_ROOT)
        server = start_runserver(env=env, log_path=tmp_path / "web.log", port=free_port())
        yield postgres, server.url
    finally:
        if server is not None:
            server.stop()
        postgres.remove()


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _post_form(session: requests.Session, url: str, fields: dict) -> requests.Response:
    token = _csrf_token(session.get(url, timeout=10).text)
    return session.post(url, data={**fields, "csrfmiddlewaretoken": token}, headers={"Referer": url}, timeout=10,
                        allow_redirects=False)


def test_a_database_restart_shows_a_clear_503_loses_nothing_and_the_console_works_after(console_on_its_own_database):
    postgres, base = console_on_its_own_database
    browser = requests.Session()
    assert _post_form(browser, base + "login/", {"username": "eddie", "password": PASSWORD}).status_code == 302
    new_account = base + "accounts/new/"
    saved = _post_form(browser, new_account, {"name": "prod", "account_id": "222222222222", "profile": "prod",
                                              "enabled": "on", "reason": "first"})
    assert saved.status_code == 302, saved.text[:2000]
    form_token = _csrf_token(browser.get(new_account, timeout=10).text)

    postgres.stop()
    page = browser.get(base + "accounts/", timeout=10)
    refused = browser.post(new_account, data={"name": "cdn", "account_id": "333333333333", "profile": "cdn", "enabled": "on",
                                              "csrfmiddlewaretoken": form_token},
                           headers={"Referer": new_account}, timeout=10, allow_redirects=False)

    for response in (page, refused):
        assert response.status_code == 503, response.text[:2000]
        assert response.headers["Retry-After"] == "10"
        assert "The database is not answering" in response.text and "Traceback" not in response.text

    postgres.start()
    listing = browser.get(base + "accounts/", timeout=10)  # the same session: it was kept in the database
    assert listing.status_code == 200 and listing.url == base + "accounts/"
    assert "prod" in listing.text and "cdn" not in listing.text  # the refused form saved nothing
    again = _post_form(browser, new_account, {"name": "cdn", "account_id": "333333333333", "profile": "cdn", "enabled": "on"})
    assert again.status_code == 302, again.text[:2000]
    assert "cdn" in browser.get(base + "accounts/", timeout=10).text
