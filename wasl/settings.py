"""Wasl settings, read from environment variables with safe defaults (see .env.example)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("WASL_DATA_DIR") or PROJECT_DIR / "data").resolve()
DEBUG = env_bool("WASL_DEBUG")


# Below this length a configured key is a placeholder, not a secret.
MIN_SECRET_KEY_LENGTH = 32


def _secret_key() -> str:
    configured = os.environ.get("WASL_SECRET_KEY", "").strip()
    if configured:
        if len(configured) < MIN_SECRET_KEY_LENGTH and not DEBUG:
            raise ImproperlyConfigured(
                f"WASL_SECRET_KEY is too short; use at least {MIN_SECRET_KEY_LENGTH} random "
                "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')."
            )
        return configured
    # The embedded default keeps its own generated key in the data folder so that
    # sessions and tokens survive restarts without anyone inventing a placeholder.
    key_file = DATA_DIR / "secret_key"
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: when the web server and a worker start together, one key wins and
            # both read it; 0o600 from the first byte, not after a chmod.
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
        key = key_file.read_text().strip()
        for _attempt in range(40):
            if key:
                break
            time.sleep(0.05)  # the process that created the file is still writing it
            key = key_file.read_text().strip()
    except OSError as error:
        raise ImproperlyConfigured(
            f"Set WASL_SECRET_KEY or make WASL_DATA_DIR ({DATA_DIR}) writable so a key can "
            f"be generated there ({error.strerror or error})."
        ) from error
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"{key_file} holds no usable key; delete it to generate a new one "
            "(this signs everyone out) or set WASL_SECRET_KEY."
        )
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("WASL_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("WASL_ALLOWED_HOSTS must name at least one host.")
# Needed only when pages are reached through another origin than the Host header names
# (e.g. https://crm.example.com behind a proxy that rewrites Host).
CSRF_TRUSTED_ORIGINS = env_list("WASL_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "wasl.core",
    "wasl.accounts",
    "wasl.contacts",
    "wasl.deals",
    "wasl.leads",
    "wasl.activities",
    "wasl.web",
    "wasl.settings_ui",
    "wasl.notifications",
    "wasl.automation",
    "wasl.imports",
    "wasl.reports",
    "wasl.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wasl.core.middleware.DatabaseBusyMiddleware",
    "wasl.accounts.middleware.SignInRequiredMiddleware",
    "wasl.accounts.middleware.PreferencesMiddleware",
    "wasl.web.middleware.ErrorPagesMiddleware",
]

ROOT_URLCONF = "wasl.urls"
WSGI_APPLICATION = "wasl.wsgi.application"

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
                "django.template.context_processors.i18n",
                "django.template.context_processors.csrf",
                "wasl.web.context_processors.shell",
            ],
        },
    },
]

DEFAULT_SQLITE_PATH = DATA_DIR / "wasl.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("WASL_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL for concurrent readers; synchronous=FULL because WAL with NORMAL may lose the
    # last commits on power loss; IMMEDIATE so a read-then-write transaction waits for
    # the lock instead of failing at once with "database is locked". A 16 MiB page cache
    # per connection: requests read few pages and the file's first 256 MiB are mapped;
    # 64 MiB made no request faster at L and held the server at 150 MiB of private
    # memory (imports raise it while they run).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
            "PRAGMA cache_size=-16000; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    if str(DATABASES["default"]["NAME"]) == str(DEFAULT_SQLITE_PATH):
        try:
            DATA_DIR.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ImproperlyConfigured(
                f"WASL_DATA_DIR ({DATA_DIR}) cannot hold the database: {error.strerror or error}."
            ) from error
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # JIT compilation added seconds to report queries over large tables and saves
        # nothing on the short queries of pages; options given in the URL come first.
        pg_options = DATABASES["default"].setdefault("OPTIONS", {})
        pg_options["options"] = f"-c jit=off {pg_options.get('options', '')}".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "wasl.accounts.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

CACHE_URL = os.environ.get("WASL_CACHE_URL", "").strip()
if CACHE_URL.startswith("redis://") or CACHE_URL.startswith("rediss://"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background jobs (see docs/automation.md). "automation" jobs only write to the database
# and run batched; "messages" send e-mail, SMS and webhooks. WASL_TASKS_BACKEND is
# `database` (the default), `redis` (Redis Streams at WASL_REDIS_URL, for scale-out; see
# wasl.automation.redis_jobs) or another django.tasks backend class path.
WASL_TASKS_BACKEND = os.environ.get("WASL_TASKS_BACKEND") or "database"
WASL_REDIS_URL = os.environ.get("WASL_REDIS_URL") or "redis://127.0.0.1:6379/0"
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "redis": "wasl.automation.redis_jobs.RedisBackend",
        }.get(WASL_TASKS_BACKEND, WASL_TASKS_BACKEND),
        "QUEUES": ["default", "automation", "messages"],
    }
}
# Threads one report may read on side by side (wasl.reports.parallel); unset: the cores,
# at most four; 1: every read in turn.
WASL_REPORT_THREADS = int(os.environ.get("WASL_REPORT_THREADS") or 0) or None
WASL_WORKER_POLL_SECONDS = float(os.environ.get("WASL_WORKER_POLL_SECONDS") or 0.5)
WASL_DISPATCH_POLL_SECONDS = float(os.environ.get("WASL_DISPATCH_POLL_SECONDS") or 0.5)
WASL_WORKER_LEASE_SECONDS = float(os.environ.get("WASL_WORKER_LEASE_SECONDS") or 60)
WASL_SCHEDULER_LEASE_SECONDS = 30.0
WASL_SCHEDULER_CATCH_UP_HOURS = float(os.environ.get("WASL_SCHEDULER_CATCH_UP_HOURS") or 24)
WASL_JOB_BACKOFF_FACTOR = float(os.environ.get("WASL_JOB_BACKOFF_FACTOR") or 1)
WASL_JOB_RESULTS_KEEP_DAYS = 7
WASL_AUTOMATION_USERNAME = "automation"
WASL_AUTOMATION_MAX_DEPTH = int(os.environ.get("WASL_AUTOMATION_MAX_DEPTH") or 3)
# Built-in reminders: an overdue task's assignee is told, and their manager after the grace.
WASL_OVERDUE_REMINDERS = env_bool("WASL_OVERDUE_REMINDERS", default=True)
WASL_ESCALATION_GRACE_HOURS = float(os.environ.get("WASL_ESCALATION_GRACE_HOURS") or 24)
WASL_DIGEST_HOUR = int(os.environ.get("WASL_DIGEST_HOUR") or 7)
WASL_WORKING_DAYS = os.environ.get("WASL_WORKING_DAYS") or "sat,sun,mon,tue,wed"
WASL_WORKING_HOURS = os.environ.get("WASL_WORKING_HOURS") or "08:00-17:00"

# Outgoing e-mail: SMTP when WASL_EMAIL_HOST is set, else one file per message in
# <data dir>/mail (the demo's daily digests would otherwise flood the console).
_EMAIL_HOST = os.environ.get("WASL_EMAIL_HOST", "").strip()
_EMAIL_PORT = int(os.environ.get("WASL_EMAIL_PORT") or 587)
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _EMAIL_HOST,
                "port": _EMAIL_PORT,
                "username": os.environ.get("WASL_EMAIL_USER", ""),
                "password": os.environ.get("WASL_EMAIL_PASSWORD", ""),
                "use_tls": env_bool("WASL_EMAIL_TLS", default=_EMAIL_PORT == 587),
                "use_ssl": env_bool("WASL_EMAIL_SSL"),
                "timeout": 20,
            },
        }
        if _EMAIL_HOST
        else {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(DATA_DIR / "mail")},
        }
    )
}
DEFAULT_FROM_EMAIL = os.environ.get("WASL_EMAIL_FROM") or "wasl@localhost"
# SMS: "console" (log only), "http" (JSON POST to WASL_SMS_URL), or a dotted class path.
WASL_SMS_BACKEND = os.environ.get("WASL_SMS_BACKEND") or "console"
WASL_SMS_URL = os.environ.get("WASL_SMS_URL", "")
WASL_SMS_TOKEN = os.environ.get("WASL_SMS_TOKEN", "")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fa", _("Persian")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

WASL_TIME_ZONE = os.environ.get("WASL_TIME_ZONE", "Asia/Tehran")
WASL_PHONE_REGION = os.environ.get("WASL_PHONE_REGION", "IR").upper()
WASL_CURRENCY = os.environ.get("WASL_CURRENCY", "IRR").upper()

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Only the built files of the front-end packages are served, each under vendor/<name>/,
# beside our own files in wasl/static/.
NODE_MODULES = PROJECT_DIR / "node_modules"
STATICFILES_DIRS: list[str | tuple[str, str]] = [str(BASE_DIR / "static")]
STATICFILES_DIRS += [
    (prefix, str(NODE_MODULES / folder))
    for prefix, folder in [
        ("vendor/bootstrap", "bootstrap/dist"),
        ("vendor/htmx", "htmx.org/dist"),
        ("vendor/alpine", "alpinejs/dist"),
        ("vendor/sortable", "sortablejs"),
        ("vendor/icons", "bootstrap-icons/font"),
        ("vendor/chart", "chart.js/dist"),
        ("vendor/vazirmatn", "vazirmatn"),
    ]
    if (NODE_MODULES / folder).is_dir()
]
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("WASL_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WASL_LOG_LEVEL", "WARNING")},
}

# Attempts allowed per window for sign-in and token creation, per client address and name.
WASL_LOGIN_RATE = (10, 60)
