"""One settings module, driven by environment variables (see README "Configuration").

With nothing configured the console runs on the embedded default: SQLite in ``var/``
and a Celery broker kept in files under ``var/celery/`` that needs no server.
"""
from datetime import timedelta
from pathlib import Path

import environ
from csp import constants as csp_constants
from django.utils.functional import SimpleLazyObject

from rolemodel_site.local_files import development_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("ROLEMODEL_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG and not env.bool("ROLEMODEL_ALLOW_GENERATED_SECRET", default=True):
        raise environ.ImproperlyConfigured("Set SECRET_KEY.")
    # A development key that is stable per checkout and never committed, read (or made) on first use:
    # reading the settings writes nothing (rolemodel_site/local_files.py).
    SECRET_KEY = SimpleLazyObject(lambda: development_secret_key(VAR_DIR))

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "axes",  # before console: console's login audit reads what axes notes on the request
    # The project's apps, from the ground floor up (the layers contract in .importlinter).
    "core",
    "audit",
    "accounts",
    "roles",
    "memberships",
    "notifications",
    "drift",
    "plans",
    "console",
    "interchange",
    "cli",
    "rolemodel_site",  # its ready() makes the folders a process writes to (rolemodel_site/apps.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.cache_control.NoStoreMiddleware",  # signed-in pages and exports: Cache-Control no-store
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a lockout into the lockout page
]

ROOT_URLCONF = "rolemodel_site.urls"
WSGI_APPLICATION = "rolemodel_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.console_roles",
            ],
        },
    },
]

# SQLite's folder is made when a process sets Django up (rolemodel_site/apps.py), not here.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rolemodel.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker writes while pages read: take the write lock up front and wait for it.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test.sqlite3")
# Not every request: on SQLite each page would hold the write lock throughout. Mutating requests (POST,
# PUT, PATCH, DELETE) do run in one transaction each: see core/atomic_requests.py.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env.bool("ROLEMODEL_MANIFEST_STATIC", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads: a role template or user map is small; refuse anything large before reading it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# Security (see README "Security"). Production is DEBUG=False; these follow from it.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django-csp): scripts, styles and requests from our own origin only; nothing
# inline (templates have no <script> bodies nor style="" attributes, htmx injects no <style>); no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF],
        "img-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
        "base-uri": [csp_constants.NONE],
        "object-src": [csp_constants.NONE],
    }
}

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failures for one user name from one
# address, that pair is locked out for LOGIN_LOCKOUT_MINUTES; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out pair before any password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lockout ends LOGIN_LOCKOUT_MINUTES after it began, as the lockout page says; more tries do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "core.views.login_locked_out"  # a page saying for how long, status 429
AXES_VERBOSE = False  # no banner on every start; failures are in the audit history anyway

# Sudo mode: planning a teardown, removing an account or a role, and creating or changing a console
# user ask for the password again unless it was given (at login or on the confirmation page) within
# this many seconds.
ROLEMODEL_SUDO_SECONDS = env.int("ROLEMODEL_SUDO_SECONDS", default=600)

# Django's cache: per process by default; CACHE_URL (e.g. redis://127.0.0.1:6379/2) shares it between
# processes, so that the per-person limits below and the failed-login counter hold across web workers.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Heavy reads a person starts (core/throttle.py): at most COUNT per SECONDS for each person.
# aws_read: the live-roles page and plan requests (whose worker reads every account); chain_walk: a full
# verification of the audit chain from the audit page.
ROLEMODEL_HEAVY_READ_LIMITS = {
    "aws_read": (env.int("ROLEMODEL_AWS_READS_PER_MINUTE", default=10), 60),
    "chain_walk": (env.int("ROLEMODEL_CHAIN_WALKS_PER_HOUR", default=6), 3600),
}

# Optional single sign-on (OpenID Connect, mozilla-django-oidc): off unless OIDC_RP_CLIENT_ID is set.
# The IdP's group claim decides the console roles on every sign-in (console/sso.py).
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="preferred_username")
OIDC_GROUP_MAP = env.str("OIDC_GROUP_MAP", default="")  # "idp-admins=Admin,idp-approvers=Approver,..."
if OIDC_RP_CLIENT_ID:
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT")
    OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
    # Tokens signed with the IdP's key pair are checked against its published keys.
    OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT") if OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")) else None
    OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
    OIDC_USE_PKCE = env.bool("OIDC_USE_PKCE", default=True)
    OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
    LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=failed"
    AUTHENTICATION_BACKENDS.append("console.sso.ConsoleOIDCBackend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "boto3": {"level": "WARNING"}},
}

# Celery: Redis in production, a broker kept in files (no server) by default.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Web processes, the command line and workers must agree on it; tests give each worker its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="rolemodel")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The folders are made by the broker's channel when a process first connects (rolemodel_site/file_broker.py).
    _celery_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    # Longer than the longest task, so a task held by a killed worker comes back once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600)
    }
# Revocations on time (plans/revocation.py): every ROLEMODEL_EXPIRY_CHECK_SECONDS beat revokes the
# memberships whose expiry has passed and makes a revocation plan, a plan that only removes members.
# So an expiry reaches AWS within this interval plus the apply time. MEMBERSHIP_EXPIRY_INTERVAL_SECONDS
# is the name older releases read; it still counts when the new one is not set.
ROLEMODEL_EXPIRY_CHECK_SECONDS = env.int(
    "ROLEMODEL_EXPIRY_CHECK_SECONDS", default=env.int("MEMBERSHIP_EXPIRY_INTERVAL_SECONDS", default=60)
)
# With it on, the system approves a revocation plan under this rule (audited as such) and applies it at
# once: narrowing access needs no second person. Off, a revocation plan waits for an Approver.
ROLEMODEL_AUTO_APPLY_REVOCATIONS = env.bool("ROLEMODEL_AUTO_APPLY_REVOCATIONS", default=True)
CELERY_BEAT_SCHEDULE = {
    "expire-memberships": {
        "task": "plans.tasks.expiry_tick_task",
        "schedule": ROLEMODEL_EXPIRY_CHECK_SECONDS,
    },
}

# Repeated failed sign-ins make one audit row per user name, address and minute, then one with the total
# once the minute is over (console/login_audit.py); this closes the minutes nobody failed in since.
CELERY_BEAT_SCHEDULE["close-failed-login-windows"] = {
    "task": "console.tasks.close_failed_login_windows_task",
    "schedule": 60,
}

# AWS: boto3 honours AWS_ENDPOINT_URL itself; it is read here only to show it on the dashboard.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
# How long an apply waits for one stack to leave *_IN_PROGRESS before failing the account.
ROLEMODEL_STACK_TIMEOUT_SECONDS = env.int("ROLEMODEL_STACK_TIMEOUT_SECONDS", default=1800)

# Every AWS call is bounded, so an AWS that stops answering fails a job instead of hanging it:
# at most about MAX_ATTEMPTS × (CONNECT + READ timeout) plus botocore's pauses between attempts.
ROLEMODEL_AWS_CONNECT_TIMEOUT = env.float("ROLEMODEL_AWS_CONNECT_TIMEOUT", default=5.0)
ROLEMODEL_AWS_READ_TIMEOUT = env.float("ROLEMODEL_AWS_READ_TIMEOUT", default=30.0)
ROLEMODEL_AWS_MAX_ATTEMPTS = env.int("ROLEMODEL_AWS_MAX_ATTEMPTS", default=8)
# How many AWS calls one plan or apply step makes at once. A plan's reads go to different accounts,
# each with its own CloudFormation rate (at most two calls at once in one account, and two IAM reads
# in the master account), so the bound is on threads and connections more than on any one rate; the
# master step's IAM writes all share the master account's IAM rate, so few at once, and botocore's
# adaptive retries slow them further when IAM throttles.
ROLEMODEL_AWS_READ_CONCURRENCY = env.int("ROLEMODEL_AWS_READ_CONCURRENCY", default=16)
ROLEMODEL_AWS_WRITE_CONCURRENCY = env.int("ROLEMODEL_AWS_WRITE_CONCURRENCY", default=4)
# A running job's worker beats every few seconds; a queued or running job without a beat for this
# long was abandoned (its worker was killed or lost) and is marked failed, by the beat task below
# and at the start of every plan and apply request.
ROLEMODEL_JOB_LEASE_SECONDS = env.int("ROLEMODEL_JOB_LEASE_SECONDS", default=300)
# A job no worker has taken for this long fails too (no worker runs, or its message was lost). It is
# longer than the lease because a job may wait behind an apply that is busy for many minutes.
ROLEMODEL_JOB_QUEUE_TIMEOUT_SECONDS = env.int("ROLEMODEL_JOB_QUEUE_TIMEOUT_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE["reap-abandoned-jobs"] = {
    "task": "plans.tasks.reap_abandoned_jobs_task",
    "schedule": env.int("ROLEMODEL_JOB_REAPER_INTERVAL_SECONDS", default=60),
}
# A drift check reads AWS (read-only) and compares it with what the console last applied and wants now;
# Celery beat starts one every ROLEMODEL_DRIFT_INTERVAL_MINUTES (0 = only when someone asks).
ROLEMODEL_DRIFT_INTERVAL_MINUTES = env.int("ROLEMODEL_DRIFT_INTERVAL_MINUTES", default=60)
if ROLEMODEL_DRIFT_INTERVAL_MINUTES > 0:
    CELERY_BEAT_SCHEDULE["drift-check"] = {
        "task": "drift.tasks.scheduled_drift_check_task",
        "schedule": ROLEMODEL_DRIFT_INTERVAL_MINUTES * 60,
    }
# The audit chain is an HMAC whose key never enters the database (audit/keys.py): ROLEMODEL_AUDIT_KEY,
# or the file ROLEMODEL_AUDIT_KEY_FILE, created with mode 0600 on first use. Keep a copy of it: without
# it no row verifies. Someone who can write to the database but cannot read this key cannot re-seal
# an edited history.
ROLEMODEL_AUDIT_KEY = env.str("ROLEMODEL_AUDIT_KEY", default="")
ROLEMODEL_AUDIT_KEY_FILE = env.str("ROLEMODEL_AUDIT_KEY_FILE", default=str(VAR_DIR / "audit_key"))
# The audit page's chain badge walks the whole chain at most every ROLEMODEL_AUDIT_FULL_VERIFY_MINUTES (per
# process; "verify now" walks it at once); in between it checks only the rows written since the last walk.
# A full walk reads every row: about a minute or more per million on a small machine.
ROLEMODEL_AUDIT_FULL_VERIFY_MINUTES = env.int("ROLEMODEL_AUDIT_FULL_VERIFY_MINUTES", default=60)
# The chain's head, signed, is published every ROLEMODEL_AUDIT_HEAD_MINUTES (0 = only on demand) to the
# log, to a JSON-lines file and optionally to a webhook, to be kept where the database's writers cannot
# reach; `rolemodel audit verify --heads FILE` then catches a history truncated and rewritten.
ROLEMODEL_AUDIT_HEAD_MINUTES = env.int("ROLEMODEL_AUDIT_HEAD_MINUTES", default=60)
ROLEMODEL_AUDIT_HEAD_FILE = env.str("ROLEMODEL_AUDIT_HEAD_FILE", default=str(VAR_DIR / "audit-heads.jsonl"))
ROLEMODEL_AUDIT_HEAD_WEBHOOK_URL = env.str("ROLEMODEL_AUDIT_HEAD_WEBHOOK_URL", default="")
ROLEMODEL_AUDIT_HEAD_WEBHOOK_TIMEOUT = env.float("ROLEMODEL_AUDIT_HEAD_WEBHOOK_TIMEOUT", default=5.0)
if ROLEMODEL_AUDIT_HEAD_MINUTES > 0:
    CELERY_BEAT_SCHEDULE["publish-audit-head"] = {
        "task": "audit.tasks.publish_audit_head_task",
        "schedule": ROLEMODEL_AUDIT_HEAD_MINUTES * 60,
    }
# A database that does not answer gets a clear "try again" page (503), not a server error.
MIDDLEWARE += ["core.db_unavailable.DatabaseUnavailableMiddleware"]

# Notifications (notifications/): who hears about what needs them, by email and by webhook.
# Email goes through Django's backend: the console backend (the default) writes each message to the log;
# set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER,
# EMAIL_HOST_PASSWORD, EMAIL_USE_TLS for a real server.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="rolemodel-console@localhost")
# The console's address as people reach it: links in emails and webhooks are absolute.
ROLEMODEL_BASE_URL = env.str("ROLEMODEL_BASE_URL", default="http://localhost:8000")
# An optional webhook that receives every event as signed JSON (Slack-compatible: it has a "text" field).
# The secret signs each body (X-Rolemodel-Signature: sha256=<hex HMAC-SHA256 of the raw body>); it is never
# stored nor logged, and neither is the URL (only its host is).
ROLEMODEL_WEBHOOK_URL = env.str("ROLEMODEL_WEBHOOK_URL", default="")
ROLEMODEL_WEBHOOK_SECRET = env.str("ROLEMODEL_WEBHOOK_SECRET", default="")
ROLEMODEL_WEBHOOK_TIMEOUT = env.float("ROLEMODEL_WEBHOOK_TIMEOUT", default=5.0)
# A delivery that fails is tried again up to MAX_RETRIES times, after BACKOFF × 2^n seconds (n = 0, 1, …,
# at most an hour); then it is recorded failed with the last reason.
ROLEMODEL_NOTIFY_MAX_RETRIES = env.int("ROLEMODEL_NOTIFY_MAX_RETRIES", default=5)
ROLEMODEL_NOTIFY_BACKOFF_SECONDS = env.float("ROLEMODEL_NOTIFY_BACKOFF_SECONDS", default=30.0)
# How often beat looks for memberships that expire within three days, to tell the person who granted each.
ROLEMODEL_EXPIRY_NOTICE_INTERVAL_SECONDS = env.int("ROLEMODEL_EXPIRY_NOTICE_INTERVAL_SECONDS", default=3600)
if ROLEMODEL_EXPIRY_NOTICE_INTERVAL_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["notify-expiring-memberships"] = {
        "task": "notifications.tasks.notify_expiring_memberships_task",
        "schedule": ROLEMODEL_EXPIRY_NOTICE_INTERVAL_SECONDS,
    }
