"""Loaded as a pytest plugin before Django's settings: the environment every test run shares."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("ROLEMODEL_VAR_DIR", str(ROOT / "var" / "test"))
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ROLEMODEL_MANIFEST_STATIC", "false")
os.environ.setdefault("STATIC_ROOT", str(ROOT / "var" / "test" / "staticfiles"))
Path(os.environ["STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
# Every process of a test run (this one, workers, the command line) seals audit rows with one key, as
# every process of a deployment must; workers get their own ROLEMODEL_VAR_DIR, so not a file there.
os.environ.setdefault("ROLEMODEL_AUDIT_KEY", "tests-only-audit-key-" + "x" * 40)
