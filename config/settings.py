"""Settings for Censorship Timeline.

Runs with no environment at all (SQLite, DEBUG on, a development secret); everything else
comes from environment variables, listed in docs/operations.md. Bad values fail loudly at start.
"""

import ipaddress
import json
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def envlist(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def envurl(name, default):
    """An http(s) address with no query or fragment, without its trailing slash."""
    value = (os.environ.get(name) or default).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must be an http(s) address such as {default}.")
    return value


def envnetworks(name, default):
    """A comma-separated list of IP addresses or CIDR networks (an address is a network of one)."""
    try:
        return [ipaddress.ip_network(item) for item in envlist(name, default)]
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must list IP addresses or networks such as 10.0.0.0/8, "
            f"not {os.environ.get(name)!r}."
        ) from None


def envint(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def envjson(name, default):
    """A JSON object, such as {"bucket_name": "releases"}."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        found = json.loads(value)
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise ImproperlyConfigured(
            f'{name} must be a JSON object such as {{"bucket_name": "releases"}}, not {value!r}.'
        )
    return found


def envdotted(name, default):
    """The dotted path of a class, such as storages.backends.s3.S3Storage."""
    value = os.environ.get(name) or default
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", value):
        raise ImproperlyConfigured(
            f"{name} must be a class's dotted path such as {default}, not {value!r}."
        )
    return value


DEBUG = envbool("DEBUG", True)
# Where the site is published. Citations, feeds, data releases and export_timeline's files
# write their absolute URLs from it, so a citation never depends on how a request reached us.
DEVELOPMENT_SITE_URL = "http://127.0.0.1:8000"
SITE_URL = envurl("SITE_URL", DEVELOPMENT_SITE_URL)
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# Served over HTTPS (the default once DEBUG is off): secure cookies, a redirect from http and
# HSTS, what `check --deploy` asks for. bin/serve sets HTTPS=false to serve plain
# http://127.0.0.1 on this machine. Behind a TLS proxy, gunicorn turns its X-Forwarded-Proto
# into https for the addresses in FORWARDED_ALLOW_IPS (127.0.0.1 by default).
HTTPS = envbool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# No script reads either cookie: the admin's forms carry the CSRF token themselves.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# The header qualifies the domain for browsers' preload lists; it is only listed once its
# owner submits it at hstspreload.org. Set SECURE_HSTS_PRELOAD=false on a domain whose
# subdomains cannot all serve HTTPS.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Every page, the admin and the API's Swagger UI run with no inline script or style and load
# nothing from elsewhere (django-csp). Swagger UI draws its icons from data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

database_options = {"conn_max_age": envint("CONN_MAX_AGE", 60), "conn_health_checks": True}
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", **database_options
    )
}
# Read replicas of default, as replica1, replica2, ...: config.routers sends them the public
# reads of anonymous readers and nothing else. Tests use each as a mirror of default's test
# database (no database of its own).
DATABASES |= {
    f"replica{number}": dj_database_url.parse(url, **database_options)
    | {"TEST": {"MIRROR": "default"}}
    for number, url in enumerate(envlist("DATABASE_REPLICA_URLS", []), start=1)
}
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"] if DATABASE_REPLICAS else []
# After a client writes, its reads go to the primary for this long (read-your-writes).
REPLICA_PIN_SECONDS = envint("REPLICA_PIN_SECONDS", 10)

INSTALLED_APPS = [
    "events.apps.CurationAdminConfig",  # Django's admin, opening on a dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",  # runserver leaves static files to whitenoise too
    "django.contrib.staticfiles",
    "axes",
    "corsheaders",
    "django_countries",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "rest_framework",
    "simple_history",
    "events",
    "timeline",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *(["config.middleware.ReplicaMiddleware"] if DATABASE_REPLICAS else []),
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.languages.URLLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.QueryTimeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

# A public request (not the admin, nobody logged in) whose queries run longer than this is
# stopped and answered 503 with what to do instead; a streamed export is exempt once it has
# started. 0 turns the limit off.
PUBLIC_QUERY_SECONDS = envint("PUBLIC_QUERY_SECONDS", 5)
# On PostgreSQL the API's pages run as prepared statements, planned once per connection
# (events.public.documents.run). Turn off behind a pooler that shares server sessions between
# clients (PgBouncer in transaction mode).
PUBLIC_PREPARED_STATEMENTS = envbool("PUBLIC_PREPARED_STATEMENTS", True)

# Sign-in attempts (django-axes): after LOGIN_FAILURE_LIMIT failures for one username from one
# address, that pair is refused for LOGIN_LOCKOUT_MINUTES, with a page that says so (429).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Failures are counted in the database, which every worker and host shares.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# The client's address as the API's throttle sees it (TRUSTED_PROXIES below).
AXES_CLIENT_IP_CALLABLE = "events.admin.login.client_address"
AXES_VERBOSE = False

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.languages.alternates",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# The site's languages; the URL picks one (config.languages). The API is English only.
LANGUAGES = [("en-gb", "English"), ("zh-hans", "简体中文")]
FORMAT_MODULE_PATH = ["config.formats"]  # dates in full in English (5 March 2014)
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Whitenoise serves static files from the app server. With STATIC_MANIFEST (the default once
# DEBUG is off; bin/serve sets it) they are the hashed, compressed copies collectstatic wrote to
# STATIC_ROOT, cached for a year. Without it (development, and the test suite, which must not
# need collectstatic) they are the apps' own files, found on each request.
STATIC_MANIFEST = envbool("STATIC_MANIFEST", not DEBUG)
# Data releases are immutable files (python manage.py release), kept in RELEASES_DIR unless
# RELEASES_STORAGE names shared storage (django-storages' S3Storage, say) for several app
# servers, with its options in RELEASES_STORAGE_OPTIONS. A folder's options are no other
# backend's, so another backend starts with none.
FILE_SYSTEM_STORAGE = "django.core.files.storage.FileSystemStorage"
RELEASES_DIR = Path(os.environ.get("RELEASES_DIR") or BASE_DIR / "releases")
RELEASES_STORAGE = envdotted("RELEASES_STORAGE", FILE_SYSTEM_STORAGE)
RELEASES_STORAGE_OPTIONS = envjson(
    "RELEASES_STORAGE_OPTIONS",
    {"location": RELEASES_DIR, "base_url": None} if RELEASES_STORAGE == FILE_SYSTEM_STORAGE else {},
)
STORAGES = {
    "default": {"BACKEND": FILE_SYSTEM_STORAGE},
    "releases": {"BACKEND": RELEASES_STORAGE, "OPTIONS": RELEASES_STORAGE_OPTIONS},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = not STATIC_MANIFEST

# One cache shared by every gunicorn worker when REDIS_URL is set; otherwise each process keeps
# its own in memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "timeline"),
        # A Redis that stops answering slows a request by seconds, not forever.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# The API's throttle counts (timeline.throttling) must be the same for every worker and outlive
# the workers gunicorn replaces every max_requests. With REDIS_URL they live in Redis, shared by
# every host; without it in files in THROTTLE_CACHE_DIR, shared by every worker on this host.
# Counting a request lists that folder: about 1 ms at 300 clients, 3-4 ms at 1,000 (measured
# on 2 cores); past MAX_ENTRIES a random third of the counts is dropped. With DEBUG on (one
# process: runserver, the test suite) the counts stay in the default cache's memory unless
# THROTTLE_CACHE_DIR is set. Only the app may write there: Django's file cache unpickles it.
THROTTLE_CACHE_DIR = os.environ.get("THROTTLE_CACHE_DIR") or (
    "" if DEBUG else str(BASE_DIR / "var" / "throttle")
)
if REDIS_URL or not THROTTLE_CACHE_DIR:
    # A LocMemCache shares its memory with every alias of the same LOCATION: default's.
    CACHES["throttle"] = dict(CACHES["default"])
else:
    CACHES["throttle"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": THROTTLE_CACHE_DIR,
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
# Public JSON and anonymous pages are cached under the data version (timeline.caching): a
# change makes older entries unreachable at once, so this only bounds how long they linger.
# 0 turns the cache off.
PUBLIC_CACHE_SECONDS = envint("PUBLIC_CACHE_SECONDS", 300)

# Curators' imports: CSV and XLSX, all or nothing, only for those with the import permission.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# The client's address, for the API's limit and sign-in throttling (events.admin.login). Behind
# NUM_PROXIES reverse proxies (REST_FRAMEWORK below) it is read from X-Forwarded-For, but only
# on requests from an address in TRUSTED_PROXIES (addresses or CIDR networks): from anyone else
# that header is whatever the client wrote. Loopback by default, as gunicorn's
# FORWARDED_ALLOW_IPS: gunicorn listens on 127.0.0.1 and its proxy runs on the same host.
TRUSTED_PROXIES = envnetworks("TRUSTED_PROXIES", ["127.0.0.1", "::1"])

# The reader API: public, read-only, throttled per client address.
API_ANON_RATE = os.environ.get("API_ANON_RATE", "1200/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["timeline.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "timeline.pagination.KeysetPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["timeline.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_ANON_RATE},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "timeline.views.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "NUM_PROXIES": envint("NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Censorship Timeline API",
    "DESCRIPTION": (
        "Read-only access to the published timeline of censorship events: filter, page, "
        "count, export as CSV, NDJSON or TimelineJS, and follow the change feed."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ActorKindEnum": "events.choices.ActorKind",
        "PlatformKindEnum": "events.choices.PlatformKind",
        "SourceKindEnum": "events.choices.SourceKind",
        "AliasKindEnum": "events.choices.AliasKind",
    },
}
# Anyone may read the API from any origin; nothing else is shared across origins.
CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["Link", "ETag", "Content-Disposition", "Retry-After", "X-Row-Count"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Sources that do not rot: Save Page Now and the link checker (events.services.archiving,
# events.services.link_checks), run as tasks (events.tasks). ------------------------------------
# With TASKS_REDIS_URL the tasks go to an RQ queue in Redis, run by `make worker`; without it
# they run in a thread of the process that asked, so `make run` needs nothing else. The queue
# needs a Redis database of its own: clearing the cache (REDIS_URL) empties that whole database.
TASKS_REDIS_URL = os.environ.get("TASKS_REDIS_URL", "")
if TASKS_REDIS_URL and TASKS_REDIS_URL == REDIS_URL:
    raise ImproperlyConfigured("TASKS_REDIS_URL must name another Redis database than REDIS_URL.")
INSTALLED_APPS += ["django_rq"]  # rqworker, rqcron, and the queues' page in the admin
TASKS_QUEUE = "default"
RQ_QUEUES = (
    {TASKS_QUEUE: {"URL": TASKS_REDIS_URL, "DEFAULT_TIMEOUT": 600}} if TASKS_REDIS_URL else {}
)
RQ_SHOW_ADMIN_LINK = bool(TASKS_REDIS_URL)
# Save Page Now's address. Asking it to save a page tells the Internet Archive what we look at,
# so with DEBUG on (make run, the test suite) nothing is sent unless ARCHIVE_ENDPOINT is set.
ARCHIVE_ENDPOINT = (
    envurl("ARCHIVE_ENDPOINT", "https://web.archive.org")
    if os.environ.get("ARCHIVE_ENDPOINT") or not DEBUG
    else ""
)
ARCHIVE_TIMEOUT = envint("ARCHIVE_TIMEOUT", 120)  # Save Page Now often takes a minute
# A failed capture is tried again after each of these waits (Save Page Now answers 429 when
# asked too often, and often fails for a while).
ARCHIVE_RETRY_SECONDS = [60, 600, 3600]
# The link checker: seconds to connect and to wait for each read, redirects followed, and the
# schedule `manage.py rqcron events.cron` runs it on.
LINK_CHECK_TIMEOUT = envint("LINK_CHECK_TIMEOUT", 10)
LINK_CHECK_MAX_REDIRECTS = 5
LINK_CHECK_CRON = os.environ.get("LINK_CHECK_CRON", "30 3 * * *")
