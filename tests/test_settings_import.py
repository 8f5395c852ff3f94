"""Reading the settings writes nothing: the folders and files a process keeps under ROLEMODEL_VAR_DIR are
made when a process needs them (Django set up, the first connection to the file broker, the first use
of the development secret key). Each check runs in a fresh interpreter, as a tool reading the settings would."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, var_dir: Path) -> str:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("ROLEMODEL_", "CELERY_", "DJANGO_")) and name not in ("SECRET_KEY", "DATABASE_URL")}
    env.update(ROLEMODEL_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="rolemodel_site.settings", DEBUG="true")
    finished = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_importing_the_settings_creates_nothing(tmp_path):
    var_dir = tmp_path / "not-yet"

    out = run_python("""
        import rolemodel_site.settings as settings
        print(settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    """, var_dir)

    assert out.split() == ["filesystem://", str(var_dir / "celery" / "queue")]
    assert not var_dir.exists()
    assert not tmp_path.joinpath("not-yet").exists() and list(tmp_path.iterdir()) == []


def test_the_celery_app_makes_filesystem_urls_use_the_atomic_file_broker(tmp_path):
    out = run_python("""
        from kombu.transport import TRANSPORT_ALIASES
        from rolemodel_site.celery import app
        print(TRANSPORT_ALIASES["filesystem"])
    """, tmp_path / "var")

    assert out.strip() == "rolemodel_site.file_broker:Transport"


def test_a_process_makes_its_folders_when_it_needs_them(tmp_path):
    var_dir = tmp_path / "var"

    out = run_python("""
        import django
        django.setup()  # SQLite's folder, for the first connection
        from pathlib import Path
        from django.conf import settings
        print(sorted(str(p.name) for p in Path(settings.VAR_DIR).iterdir()))

        from kombu import Connection
        with Connection(settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS) as c:
            c.default_channel  # the broker's folders, made by its channel
        first = str(settings.SECRET_KEY)  # the development key, made on first use
        print(len(first) >= 50, first == str(settings.SECRET_KEY))
    """, var_dir)

    assert out.splitlines() == ["[]", "True True"]
    assert files_under(var_dir) == ["celery", "celery/control", "celery/processed", "celery/queue", "secret_key"]
    assert (var_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    # Stable across processes, as the web process and the worker must agree on it.
    again = run_python("from django.conf import settings; print(settings.SECRET_KEY)", var_dir)
    assert again.strip() == (var_dir / "secret_key").read_text().strip()
