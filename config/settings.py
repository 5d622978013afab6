"""Settings for the platform, every value from the environment (config.env.env).

With nothing set, the embedded default runs: SQLite file, local-memory cache,
eager Celery, DEBUG on. Production mode (DEBUG off) requires SECRET_KEY,
DATABASE_URL and REDIS_URL and refuses to start without them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.env import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env("DEBUG", True, cast=bool)
PRODUCTION = not DEBUG

SECRET_KEY = env("SECRET_KEY", None if PRODUCTION else "insecure-embedded-default-key", required=PRODUCTION)
# Keys that encrypt the shop secrets stored in the database (tenants/crypto.py): the first encrypts, all
# decrypt. Defaults to one derived from SECRET_KEY; set it on its own in production so rotating SECRET_KEY
# (sessions) does not make stored webhook secrets unreadable.
SHOP_SECRETS_KEYS = env("SHOP_SECRETS_KEYS", [SECRET_KEY], cast=list)
ALLOWED_HOSTS = env("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"], cast=list)
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS", [], cast=list)

# Number of reverse proxies in front of the web processes whose X-Forwarded-For
# entries are trusted; 0 means REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = env("TRUSTED_PROXY_COUNT", 0, cast=int)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files, pinned, no CDN
    "core",
    "config.apps.PlatformConfig",
    "tenants",
    "apikeys",
    "catalog",
    "merchandising",
    "pricing",
    "demo",  # the demo shop generator and seed_demo (no models)
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apikeys.middleware.RequestCharsetMiddleware",
    "apikeys.middleware.SurfaceGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as django-axes asks: it turns a locked-out login into its 429 answer
    "axes.middleware.AxesMiddleware",
]

# Admin login throttling (django-axes): failed logins are counted per client address and per
# username (either reaching the limit locks the login out for the cool-off, answered 429); a
# successful login resets them. The client address is the API's (TRUSTED_PROXY_COUNT).
AUTHENTICATION_BACKENDS = [
    "config.login_throttle.LoginThrottleBackend",  # django-axes, tolerant of a missing request
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env("ADMIN_LOGIN_FAILURE_LIMIT", 5, cast=int)
AXES_COOLOFF_TIME = timedelta(minutes=env("ADMIN_LOGIN_COOLOFF_MINUTES", 15, cast=int))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "apikeys.auth.request_client_ip"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

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
            ]
        },
    }
]

DATABASE_URL = env("DATABASE_URL", None, required=PRODUCTION)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=env("DB_CONN_MAX_AGE", 60, cast=int),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", None, required=PRODUCTION)
# Seconds a Redis call may take before the platform treats Redis as down.
REDIS_TIMEOUT = env("REDIS_TIMEOUT", 0.25, cast=float)

# Prefix of the platform's own Redis keys (rate limits, key-cache generation, usage counters, the
# Django cache below), so deployments sharing a Redis can be told apart. Celery's broker keys (the
# CELERY_QUEUE list, kombu's bindings and unacked sets) are not prefixed: give each deployment its
# own Redis database or CELERY_QUEUE (README "Configuration").
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", "plat")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            # a hung Redis must not hold a request (redis-py waits forever by default)
            "OPTIONS": {"socket_timeout": REDIS_TIMEOUT * 4, "socket_connect_timeout": REDIS_TIMEOUT * 4},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# WhiteNoise serves collected static files (the admin's) in production; in the
# embedded mode it finds them in the apps directly.
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Request bodies: 1 MiB at most on the vendor surfaces, 8 MiB on the platform sync
# surface (1000 full Shopify products are ~1.2 MiB); checked from Content-Length by
# apikeys.middleware before anything is read.
MAX_REQUEST_BODY_BYTES = env("MAX_REQUEST_BODY_BYTES", 1024 * 1024, cast=int)
PLATFORM_MAX_REQUEST_BODY_BYTES = env("PLATFORM_MAX_REQUEST_BODY_BYTES", 8 * 1024 * 1024, cast=int)
DATA_UPLOAD_MAX_MEMORY_SIZE = PLATFORM_MAX_REQUEST_BODY_BYTES

# Catalog: embeddings ("hashing": character n-gram TF-IDF in NumPy, no download;
# "sentence-transformers": all-MiniLM-L6-v2 from requirements-embeddings.txt) and
# the category suggestion's acceptance rule.
# wordllama (default, packaged 16 MB static embeddings), hashing (no model) or sentence-transformers (optional extra)
CATALOG_EMBEDDING_BACKEND = env("CATALOG_EMBEDDING_BACKEND", "wordllama")
CATALOG_EMBEDDING_DIM = env("CATALOG_EMBEDDING_DIM", 256, cast=int)
CATALOG_EMBEDDING_MODEL = env("CATALOG_EMBEDDING_MODEL", "all-MiniLM-L6-v2")
# Memory a process may keep tenants' product and category indexes in (least recently used tenants out;
# 0: unbounded). Per process: each gunicorn worker and each Celery worker child has its own. An index larger
# than the whole budget is built and served but not kept. About 3.5 KB per product at 256 dimensions.
CATALOG_INDEX_MEMORY_BUDGET_MB = env("CATALOG_INDEX_MEMORY_BUDGET_MB", 1024, cast=float)
# Catalogue task queues: a tenant's catalogue tasks go to one of this many queues (by a hash of the tenant id,
# config/celery.py), so a worker consuming some of them keeps only those tenants' indexes. 1: one queue for all.
CATALOG_QUEUES = env("CATALOG_QUEUES", 1, cast=int)
# calibrated score (0-1) above which the best category suggestion becomes the product's category. Scores are
# the share of such suggestions that proved right on the shop's own merchant-categorised products (held out;
# from 50 of them), else 0.7 x the ranker's probability (docs/catalog.md). 0.8 was chosen from
# bench/catalog_quality.py: on Flipkart with 20% labelled, 98-99% of the products above it were right (about
# half of them assigned); with no labels nothing reaches it (no threshold gave 90% precision zero-shot).
CATALOG_CATEGORY_THRESHOLD = env("CATALOG_CATEGORY_THRESHOLD", 0.8, cast=float)
# Pricing: competitor offers older than this are left out of repricing.
PRICING_STALE_AFTER_HOURS = env("PRICING_STALE_AFTER_HOURS", 48, cast=float)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_PARSER_CLASSES": ["apikeys.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["apikeys.renderers.SafeJSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "apikeys.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apikeys.schema.SurfaceAutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Commerce platform API",
    "DESCRIPTION": "Dynasort merchandising, Sortillus v3 catalog, ShopiSync pricing and the platform API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load Swagger UI and ReDoc from drf-spectacular-sidecar's static files (WhiteNoise serves
    # them), so they render offline and their version moves only with requirements.txt.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # "Authorize" once per browser; the demo keys are in docs/quickstart.md and printed by `make run`
    # request examples that work against the demo shop, after drf-spectacular's default enum hook
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.openapi_examples.add_examples"],
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": False},
}

# Celery: Redis broker when REDIS_URL is set; otherwise tasks run inline (eager).
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL, cast=bool)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "default")
# A task whose worker died (acks late) is redelivered once this many seconds have passed since it was
# taken; kombu's default hour left a killed worker's sort or recommendation undone for an hour. 15 minutes
# matches the age at which a sort's "running" claim is taken over; tasks are idempotent and guarded, so a
# task outliving it and being delivered twice does no harm.
# Publishing never holds a request long: a broker that is down or hung (accepts connections, never
# answers) fails a publish within about CELERY_BROKER_TIMEOUT x 2 seconds (one retry), and the task waits
# in the outbox (core/outbox.py) until the sweeper sends it.
CELERY_BROKER_TIMEOUT = env("CELERY_BROKER_TIMEOUT", 0.5, cast=float)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env("CELERY_VISIBILITY_TIMEOUT", 900, cast=int),
    "socket_timeout": CELERY_BROKER_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_TIMEOUT
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
# The sweeper (config/tasks.py): every TASK_SWEEP_SECONDS it publishes outbox rows older than
# TASK_OUTBOX_RETRY_SECONDS and re-queues work "queued"/"recommending_products" for over TASK_STUCK_SECONDS.
TASK_SWEEP_SECONDS = env("TASK_SWEEP_SECONDS", 60.0, cast=float)
TASK_OUTBOX_RETRY_SECONDS = env("TASK_OUTBOX_RETRY_SECONDS", 60.0, cast=float)
TASK_STUCK_SECONDS = env("TASK_STUCK_SECONDS", 600.0, cast=float)
# After a failed publish, a web process leaves its tasks to the sweeper this long without trying the broker.
TASK_PUBLISH_PAUSE_SECONDS = env("TASK_PUBLISH_PAUSE_SECONDS", 5.0, cast=float)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "flush-api-key-usage": {"task": "apikeys.tasks.usage_flush", "schedule": 60.0},
    "resort-enabled-collections": {"task": "merchandising.tasks.collections_resort_enabled", "schedule": 3600.0},
    "reprice-auto-products": {"task": "pricing.tasks.reprice_all_tenants", "schedule": 900.0},
    "sweep-queued-tasks": {"task": "config.tasks.tasks_sweep", "schedule": TASK_SWEEP_SECONDS},
    "sweep-shopify-webhooks": {"task": "catalog.tasks.webhook_deliveries_sweep", "schedule": 60.0},
    "purge-idempotency-keys": {"task": "apikeys.tasks.idempotency_purge", "schedule": 3600.0},
}
# Shopify webhooks that flip a product's sold-out state re-sort its enabled collections this many seconds
# later: however many webhooks arrive meanwhile, each collection is sorted once.
SHOPIFY_RESORT_DEBOUNCE_SECONDS = env("SHOPIFY_RESORT_DEBOUNCE_SECONDS", 10.0, cast=float)

# Writing sort results back to the store (merchandising/store_writeback.py, docs/shopify.md). The Admin API
# version used when a connection names none; the base URL of the Admin API when it is not https://<shop domain>
# (a local stand-in in tests, a proxy); how long one HTTP call may take; the backoff base of the retries after a
# transient failure (base x 2^n seconds, at most SHOPIFY_WRITEBACK_MAX_RETRIES); the pause between polls of a
# reorder job; the longest a throttle (Retry-After or the cost bucket) is waited out inside the task before
# the task is retried later instead.
SHOPIFY_API_VERSION = env("SHOPIFY_API_VERSION", "2026-07")
SHOPIFY_ADMIN_BASE_URL = env("SHOPIFY_ADMIN_BASE_URL", "")
SHOPIFY_HTTP_TIMEOUT_SECONDS = env("SHOPIFY_HTTP_TIMEOUT_SECONDS", 20.0, cast=float)
SHOPIFY_WRITEBACK_BACKOFF_SECONDS = env("SHOPIFY_WRITEBACK_BACKOFF_SECONDS", 5.0, cast=float)
SHOPIFY_WRITEBACK_MAX_RETRIES = env("SHOPIFY_WRITEBACK_MAX_RETRIES", 5, cast=int)
SHOPIFY_WRITEBACK_POLL_SECONDS = env("SHOPIFY_WRITEBACK_POLL_SECONDS", 1.0, cast=float)
SHOPIFY_THROTTLE_MAX_WAIT_SECONDS = env("SHOPIFY_THROTTLE_MAX_WAIT_SECONDS", 30.0, cast=float)

# Idempotency-Key (apikeys/idempotency.py): how long a key and its stored response count, and after how long a
# request still marked running is taken as dead (longer than any request may take: gunicorn's timeout is 60 s).
IDEMPOTENCY_KEY_TTL_SECONDS = env("IDEMPOTENCY_KEY_TTL_SECONDS", 24 * 3600, cast=int)
IDEMPOTENCY_RUNNING_TIMEOUT_SECONDS = 300

# Rate limits (DESIGN.md "Rate limits").
MERCHANDISING_RATE_LIMIT = (60, 60)  # requests, seconds; per tenant
DEFAULT_KEY_RATE_LIMIT = (1000, 3600)  # per key on the other surfaces
AUTH_FAILURE_RATE_LIMIT = (30, 60)  # failed authentications per client address

# The MCP server (merchandising/assistant, docs/assistants.md): the Host header a request to /mcp may carry
# (DNS-rebinding protection; any port) and the browser Origins it may come from. "*" turns the check off.
MCP_ALLOWED_HOSTS = env("MCP_ALLOWED_HOSTS", ALLOWED_HOSTS, cast=list)
MCP_ALLOWED_ORIGINS = env(
    "MCP_ALLOWED_ORIGINS",
    [f"{scheme}://{host}{port}" for host in MCP_ALLOWED_HOSTS for scheme in ("http", "https") for port in ("", ":*")],
    cast=list,
)

# Authenticated keys are cached per process and checked against a Redis generation on every
# request (apikeys/keycache.py); no entry is used longer than this. 0 turns the cache off.
API_KEY_CACHE_SECONDS = env("API_KEY_CACHE_SECONDS", 10.0, cast=float)
# Usage counters are gathered per process and written to Redis in one pipeline at most this
# often (apikeys/usage.py); 0 writes on every request.
USAGE_BUFFER_SECONDS = env("USAGE_BUFFER_SECONDS", 0.5, cast=float)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "celery.app.trace": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # failures and lockouts; not the per-attempt housekeeping lines
    },
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
    SESSION_COOKIE_SECURE = env("SESSION_COOKIE_SECURE", True, cast=bool)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
