"""qcloop settings: one module, configured by the environment.

Every knob has a safe default so that `qcloop demo` runs with nothing set: SQLite and local
files under QCLOOP_DATA_DIR (./var), DEBUG off, a secret key generated on first start.
docs/configuration.md lists every variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _report_link_days() -> int:
    raw = os.environ.get("QCLOOP_REPORT_LINK_DAYS", "30").strip()
    # Zero would kill every link at once, silently: refuse it at start instead.
    if not raw.isdigit() or int(raw) < 1:
        raise ImproperlyConfigured(
            f"QCLOOP_REPORT_LINK_DAYS must be a whole number of days, at least 1 (got {raw!r})."
        )
    return int(raw)


PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("QCLOOP_DATA_DIR") or Path.cwd() / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The key from SECRET_KEY, else one generated once into the data dir (never committed)."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    try:
        # O_EXCL: when several processes start at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    from django.core.management.utils import get_random_secret_key

    key = get_random_secret_key()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_tasks_db",
    "qcloop.core",
    "qcloop.accounts",
    "qcloop.orders",
    "qcloop.inspections",
    "qcloop.field",
    "qcloop.reports",
    "qcloop.capa",
    "qcloop.alerts",
    "qcloop.analytics",
    "qcloop.commercial",
    "qcloop.scheduling",
    "qcloop.ops",
]

MIDDLEWARE = [
    "qcloop.ops.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "qcloop.core.middleware.TextInputGuard",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "qcloop.core.middleware.ViewerTimezoneMiddleware",
]

ROOT_URLCONF = "qcloop.urls"
WSGI_APPLICATION = "qcloop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qcloop.core.context_processors.membership",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'qcloop.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # One writer at a time on SQLite: IMMEDIATE takes the write lock when a transaction
        # starts instead of failing half-way, WAL lets readers go on beside the writer, and
        # the busy timeout makes a second writer wait rather than error.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiles a plan for every large aggregate: ~200 ms of the
        # dashboard's time at 20,000 POs, for queries that run in less without it.
        config["OPTIONS"] = {"options": "-c jit=off"}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("QCLOOP_MEDIA_ROOT") or DATA_DIR / "media")
MEDIA_URL = "/media/"


# Presigned URLs to object storage, handed out after the tenancy gate, work this long.
QCLOOP_SIGNED_URL_SECONDS = int(os.environ.get("QCLOOP_SIGNED_URL_SECONDS", "300"))


def s3_storage(bucket: str, **given) -> dict:
    """Photos and reports in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...). Credentials
    come from the usual AWS variables (or the machine's role); the bucket stays private."""
    options = {
        "bucket_name": bucket,
        "endpoint_url": os.environ.get("QCLOOP_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("QCLOOP_S3_REGION") or None,
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        "location": os.environ.get("QCLOOP_S3_PREFIX", ""),
        "default_acl": None,  # the bucket's policy: private
        "querystring_auth": True,
        "querystring_expire": QCLOOP_SIGNED_URL_SECONDS,
        "file_overwrite": False,  # as on disk: a name taken gets another, nothing is replaced
        "signature_version": "s3v4",
        # Path-style addressing works with every S3-compatible server; AWS accepts it too.
        "addressing_style": os.environ.get("QCLOOP_S3_ADDRESSING_STYLE", "path"),
    }
    options.update(given)
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def _file_storage() -> dict:
    """Local files by default; an S3-compatible bucket with QCLOOP_S3_BUCKET; any other Django
    storage class with QCLOOP_STORAGE_BACKEND and QCLOOP_STORAGE_OPTIONS (JSON)."""
    if bucket := os.environ.get("QCLOOP_S3_BUCKET"):
        return s3_storage(bucket)
    backend = os.environ.get("QCLOOP_STORAGE_BACKEND")
    if not backend:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    import json

    return {
        "BACKEND": backend,
        "OPTIONS": json.loads(os.environ.get("QCLOOP_STORAGE_OPTIONS", "{}")),
    }


STORAGES = {
    "default": _file_storage(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def _tasks() -> dict:
    """Background work: in the database by default (one machine); on Redis through RQ when
    QCLOOP_TASKS=rq, for several app servers and workers (docs/deploy.md)."""
    kind = os.environ.get("QCLOOP_TASKS", "db").strip().lower()
    if kind == "db":
        return {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    if kind != "rq":
        raise ImproperlyConfigured(f"QCLOOP_TASKS must be db or rq (got {kind!r}).")
    return {
        "default": {
            "BACKEND": "qcloop.ops.tasks_backend.RQBackend",
            "OPTIONS": {
                "URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                "RETRIES": int(os.environ.get("QCLOOP_TASK_RETRIES", "3")),
                "RETRY_INTERVALS": [
                    int(seconds) for seconds in env_list("QCLOOP_TASK_RETRY_INTERVALS", "10,60,300")
                ],
                "JOB_TIMEOUT": int(os.environ.get("QCLOOP_TASK_TIMEOUT", "900")),
            },
        }
    }


TASKS = _tasks()
SWEEPER_INTERVAL_SECONDS = float(os.environ.get("QCLOOP_SWEEPER_INTERVAL", "30"))
# Photo uploads from the field app travel in chunks of this size (at most 2 MiB): small enough
# to get through on a weak signal, and a broken upload resumes from the last chunk received.
QCLOOP_FIELD_CHUNK_BYTES = int(os.environ.get("QCLOOP_FIELD_CHUNK_BYTES", 512 * 1024))

# Email: real SMTP when EMAIL_HOST is set, otherwise messages land as files in var/outbox.
if os.environ.get("EMAIL_HOST"):
    _email_port = int(os.environ.get("EMAIL_PORT", "587"))
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": _email_port,
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", _email_port == 587),
                "use_ssl": env_bool("EMAIL_USE_SSL", _email_port == 465),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(DATA_DIR / "outbox")},
        }
    }
# Reports: the turnaround promised to the buyer, and when the QC lead is warned.
QCLOOP_REPORT_SLA_HOURS = int(os.environ.get("QCLOOP_REPORT_SLA_HOURS", "24"))
QCLOOP_SUMMARY_SLA_HOURS = int(os.environ.get("QCLOOP_SUMMARY_SLA_HOURS", "48"))
QCLOOP_REPORT_WARN_HOURS = int(os.environ.get("QCLOOP_REPORT_WARN_HOURS", "4"))
# Above this a report's PDF is linked in the email, not attached (mail servers refuse big mail).
QCLOOP_REPORT_ATTACH_MAX_BYTES = int(
    os.environ.get("QCLOOP_REPORT_ATTACH_MAX_BYTES", str(10 * 1024 * 1024))
)

# The signed link to a report's PDF in its email (for recipients without an account) works
# this many days.
QCLOOP_REPORT_LINK_DAYS = _report_link_days()
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "qcloop <qcloop@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. Everything that does not depend on HTTPS is always on; QCLOOP_HTTPS=true turns
# on the rest once the site is served over TLS (docs/configuration.md).
HTTPS = env_bool("QCLOOP_HTTPS")
SECURE_SSL_REDIRECT = HTTPS
# The load balancer's probes and the metrics scraper speak plain HTTP to each app server.
SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^readyz$", r"^health/$", r"^metrics$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
if env_bool("QCLOOP_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:"],  # blob: the field app shows photos kept on the phone
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Logs go to stderr, for the process manager to collect: plain lines by default, one JSON
# object a line with QCLOOP_LOG_FORMAT=json (for a log shipper). Both carry the request id.
LOG_FORMAT = os.environ.get("QCLOOP_LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"QCLOOP_LOG_FORMAT must be plain or json (got {LOG_FORMAT!r}).")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "qcloop.ops.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "qcloop.ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The /metrics page answers only a scraper sending this token (Authorization: Bearer ...).
QCLOOP_METRICS_TOKEN = os.environ.get("QCLOOP_METRICS_TOKEN", "")

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
