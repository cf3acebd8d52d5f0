"""Atelier settings: every value comes from the environment, with embedded defaults.

The defaults run the whole studio on one machine (SQLite in WAL mode, the database task
queue, media on local disk, the fal simulator). Production sets `ATELIER_ENV=production`
and the variables the README lists. A bad value stops start-up with a message naming it.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from atelier.buckets import bucket_storage

from atelier.env import (
    SettingError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ATELIER_VAR_DIR", str(BASE_DIR / "var"))).resolve()

ATELIER_ENV = env_choice("ATELIER_ENV", "local", ["local", "production"])
IS_PRODUCTION = ATELIER_ENV == "production"
DEBUG = env_bool("DEBUG", False)
TASKS_BACKEND = env_choice("TASKS_BACKEND", "database", ["database", "immediate", "rq"])


def _require(module: str, name: str, extra: str) -> None:
    """Scale-out parts are optional installs: say which one is missing instead of a traceback."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise SettingError(name, f"needs the {extra!r} extra: pip install 'atelier[{extra}]'.")


def _local_secret_key() -> str:
    """Generated once into var/ so sessions survive restarts of a local install."""
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.touch(mode=0o600)
    key_file.write_text(key, encoding="utf-8")
    return key


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise SettingError("SECRET_KEY", "required when ATELIER_ENV=production.")
    SECRET_KEY = _local_secret_key()
elif len(SECRET_KEY) < 32:
    raise SettingError("SECRET_KEY", "must be at least 32 characters long.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if IS_PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if IS_PRODUCTION and not ALLOWED_HOSTS:
    raise SettingError("ALLOWED_HOSTS", "required when ATELIER_ENV=production (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    *(["django_rq"] if TASKS_BACKEND == "rq" else []),
    "accounts",
    "studio",
    "gallery",
    "usage",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the browser's (Accept-Language) or the picker's cookie, then the
    # person's own choice once logged in (accounts.language).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.language.personal_language_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After the htmx middleware (request.htmx) and messages: turns login redirects of
    # expired sessions into a message, and into HX-Redirect for htmx polls.
    "accounts.session_expiry.session_expiry_middleware",
    "studio.middleware.first_run_middleware",
    "audit.middleware.admin_audit_middleware",
]

ROOT_URLCONF = "atelier.urls"
WSGI_APPLICATION = "atelier.wsgi.application"
ASGI_APPLICATION = "atelier.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "accounts.language.language_choices",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.context_processors.fal_service",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Error reports hide connection URLs too (they carry passwords).
DEFAULT_EXCEPTION_REPORTER_FILTER = "atelier.error_reports.SettingsFilter"
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'atelier.sqlite3'}")
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0),
                                  conn_health_checks=True)
except (ValueError, KeyError) as exc:
    raise SettingError("DATABASE_URL", f"cannot use {DATABASE_URL.split('@')[-1]!r} ({exc}).") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    if _database["NAME"] != ":memory:":
        Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The threads of one process take turns to write (atelier/sqlite_backend explains why).
    _database["ENGINE"] = "atelier.sqlite_backend"
    _database["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE takes the write
        # lock at BEGIN, so two processes queue up instead of failing with "locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks -----------------------------------------------------------------
# `database` keeps the queue in the database (`manage.py db_worker`); `rq` puts it on Redis
# for many workers on many machines (`manage.py rqworker default --job-class
# django_tasks_rq.Job --with-scheduler`; the scheduler runs the delayed retries).
if TASKS_BACKEND == "rq":
    _require("django_tasks_rq", "TASKS_BACKEND", "rq")
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "rq": "django_tasks_rq.RQBackend",
        }[TASKS_BACKEND],
    }
}
# How long a tracker holds a job it looks at or collects (renewed while collecting); when a
# tracker dies, another takes its jobs over after this long.
TRACK_LEASE_SECONDS = env_int("TRACK_LEASE_SECONDS", 60, minimum=2, maximum=3600)
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
if TASKS_BACKEND == "rq" and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise SettingError("REDIS_URL", f"expected a redis://, rediss:// or unix:// URL, got {REDIS_URL.split('@')[-1]!r}.")
# One process runs task after task (no fork per task): measured 3× the submit rate of rq's
# forking Worker here. Task timeouts still apply (SIGALRM); connections are refreshed around
# each task (studio.apps).
RQ = {"WORKER_CLASS": "rq.worker.SimpleWorker"}
# How long a task may run before RQ stops it, and how long results stay in Redis.
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": env_int("RQ_JOB_TIMEOUT_SECONDS", 900, minimum=30),
                         "DEFAULT_RESULT_TTL": 3600}}

# Login rate limits (accounts.throttle) count in the cache: with several web processes it must
# be shared. Use another Redis database than the queue's (cache.clear() empties its database).
CACHE_REDIS_URL = env_str("CACHE_REDIS_URL")
if CACHE_REDIS_URL:
    if not CACHE_REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise SettingError("CACHE_REDIS_URL", "expected a redis://, rediss:// or unix:// URL.")
    _require("redis", "CACHE_REDIS_URL", "rq")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_REDIS_URL,
                          "KEY_PREFIX": "atelier"}}

# --- Accounts -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- Language and time ----------------------------------------------------------------
# English and Vietnamese; catalogues in locale/ (see docs/translating.md).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("vi", "Tiếng Việt")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our own date formats per language (atelier/formats/<lang>/formats.py) over Django's.
FORMAT_MODULE_PATH = ["atelier.formats"]
# The picker's cookie outlives the session, so the login page keeps the chosen language.
LANGUAGE_COOKIE_AGE = 365 * 86400
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the source folders, so `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
# On local disk, MEDIA_ROOT holds the media; with a bucket it holds only temporary files
# (downloads being checked, thumbnails being made).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
# Media on an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, …) when S3_BUCKET is set.
S3_BUCKET = env_str("S3_BUCKET")
MEDIA_IN_BUCKET = bool(S3_BUCKET)
# How permitted files are sent: by Django (streamed from storage), handed to nginx / Apache
# after the check (local disk only), or as a redirect to a short-lived presigned URL (bucket only).
FILE_SERVING = env_choice("FILE_SERVING", "django", ["django", "x-accel-redirect", "x-sendfile", "presigned"])
if MEDIA_IN_BUCKET and FILE_SERVING in ("x-accel-redirect", "x-sendfile"):
    raise SettingError("FILE_SERVING", f"{FILE_SERVING} needs media on local disk; with S3_BUCKET use django or presigned.")
if not MEDIA_IN_BUCKET and FILE_SERVING == "presigned":
    raise SettingError("FILE_SERVING", "presigned needs media in a bucket (set S3_BUCKET).")
MEDIA_INTERNAL_URL = env_str("MEDIA_INTERNAL_URL", "/protected-media/")
S3_URL_TTL_SECONDS = env_int("S3_URL_TTL_SECONDS", 300, minimum=10, maximum=7 * 86400)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if MEDIA_IN_BUCKET:
    _require("storages", "S3_BUCKET", "s3")
    S3_ENDPOINT_URL = env_url("S3_ENDPOINT_URL", "")
    S3_ADDRESSING_STYLE = env_choice("S3_ADDRESSING_STYLE", "path" if S3_ENDPOINT_URL else "auto",
                                     ["auto", "path", "virtual"])
    STORAGES["default"] = bucket_storage(
        bucket=S3_BUCKET, endpoint_url=S3_ENDPOINT_URL, region=env_str("S3_REGION"),
        access_key=env_str("S3_ACCESS_KEY_ID"), secret_key=env_str("S3_SECRET_ACCESS_KEY"),
        prefix=env_str("S3_PREFIX"), addressing_style=S3_ADDRESSING_STYLE, url_ttl_seconds=S3_URL_TTL_SECONDS)
ATELIER_MAX_DOWNLOAD_BYTES = env_int("ATELIER_MAX_DOWNLOAD_MB", 2048, minimum=1) * 1_000_000
ATELIER_MAX_UPLOAD_BYTES = env_int("ATELIER_MAX_UPLOAD_MB", 20, minimum=1) * 1_000_000

# --- Security -------------------------------------------------------------------------
SECURE_COOKIES = env_bool("SECURE_COOKIES", IS_PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Production is HTTPS-only: redirect plain http and tell browsers to stay on https (HSTS).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", IS_PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if IS_PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", IS_PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", IS_PRODUCTION)
SESSION_COOKIE_AGE = env_int("SESSION_DAYS", 14, minimum=1) * 86400
# Database sessions and Django's model backend, each reading its row with a statement built
# once (every job-card poll reads the session and the person).
SESSION_ENGINE = "accounts.sessions"
AUTHENTICATION_BACKENDS = ["accounts.backends.PersonBackend"]
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}


def _bucket_origins() -> list[str]:
    """Where presigned links point, so the browser may load pictures and videos from there."""
    from urllib.parse import urlsplit

    if S3_ENDPOINT_URL:
        parts = urlsplit(S3_ENDPOINT_URL)
        if S3_ADDRESSING_STYLE == "virtual":
            return [f"{parts.scheme}://{S3_BUCKET}.{parts.netloc}"]
        return [f"{parts.scheme}://{parts.netloc}"]
    region = env_str("S3_REGION") or "us-east-1"
    return [f"https://{S3_BUCKET}.s3.amazonaws.com", f"https://{S3_BUCKET}.s3.{region}.amazonaws.com",
            f"https://s3.{region}.amazonaws.com"]


if FILE_SERVING == "presigned":
    for _directive in ("img-src", "media-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive] += _bucket_origins()

# --- fal ------------------------------------------------------------------------------
# Without FAL_KEY, Atelier talks to its own simulator and says so on every page.
FAL_KEY = env_str("FAL_KEY")
FAL_USES_SIMULATOR = not FAL_KEY
FAL_SIMULATOR_URL = env_url("FAL_SIMULATOR_URL", "http://127.0.0.1:8765")
FAL_BASE_URL = FAL_SIMULATOR_URL if FAL_USES_SIMULATOR else env_url("FAL_BASE_URL", "https://queue.fal.run")
FAL_AUTH_SCHEME = env_choice("FAL_AUTH_SCHEME", "key", ["key", "bearer"])
if FAL_USES_SIMULATOR:
    FAL_KEY = "simulator"
    FAL_AUTH_SCHEME = "key"
FAL_TIMEOUT_SECONDS = env_int("FAL_TIMEOUT_SECONDS", 30, minimum=1, maximum=600)
# Where fal can reach this server. When set, input images travel as signed, expiring URLs of
# ours instead of data URIs (smaller requests, no size limit of the JSON body).
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "")
INPUT_URL_TTL_SECONDS = env_int("INPUT_URL_TTL_SECONDS", 3600, minimum=60)
# With PUBLIC_BASE_URL set, each submit asks fal to call us back when the job is done. If the
# submit's answer is lost (a crash, a dropped connection), the job waits this long for that
# call before it is marked unconfirmed. Never resent: fal might bill it twice.
ATELIER_SUBMIT_CONFIRM_SECONDS = env_int("ATELIER_SUBMIT_CONFIRM_SECONDS", 1800, minimum=1)

# --- Usage and budgets ---------------------------------------------------------------
# The currency of budgets and reports; every model's price must be in it.
ATELIER_CURRENCY = env_str("ATELIER_CURRENCY", "USD").upper()
if len(ATELIER_CURRENCY) != 3 or not ATELIER_CURRENCY.isalpha():
    raise SettingError("ATELIER_CURRENCY", "must be a three-letter currency code such as USD or EUR.")

# --- Logging --------------------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "info", ["debug", "info", "warning", "error"]).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # httpx logs every request line at INFO; ours say what matters.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
