"""Atelier settings: every value comes from the environment, with embedded defaults.

The defaults run the whole studio on one machine (SQLite in WAL mode, the database task
queue, media on local disk, the fal simulator). Production sets `ATELIER_ENV=production`
and the variables the README lists. A bad value stops start-up with a message naming it.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

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
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'atelier.sqlite3'}")
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0),
                                  conn_health_checks=True)
except (ValueError, KeyError) as exc:
    raise SettingError("DATABASE_URL", f"cannot use {DATABASE_URL.split('@')[-1]!r} ({exc}).") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    if _database["NAME"] != ":memory:":
        Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
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
TASKS_BACKEND = env_choice("TASKS_BACKEND", "database", ["database", "immediate"])
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[TASKS_BACKEND],
    }
}

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
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
# How permitted files are sent: by Django, or handed to nginx / Apache after the check.
FILE_SERVING = env_choice("FILE_SERVING", "django", ["django", "x-accel-redirect", "x-sendfile"])
MEDIA_INTERNAL_URL = env_str("MEDIA_INTERNAL_URL", "/protected-media/")
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
