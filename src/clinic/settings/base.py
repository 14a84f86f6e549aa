"""Settings shared by every environment; each value can come from the environment."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from clinic.settings.environment import env_bool, env_int, env_list, env_str

# src/clinic/settings/base.py -> the repository root
BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "clinic.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "clinic.accounts",
    "clinic.directory",
    "clinic.information",
    "clinic.records",
    "clinic.treatment",
    "clinic.enquiries",
    "clinic.scheduling",
    "clinic.audit",
    "clinic.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinic.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.accounts.middleware.StaffTwoFactorMiddleware",
    "clinic.accounts.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "src" / "clinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.site_chrome",
            ],
            "libraries": {"clinic_tags": "clinic.templatetags.clinic_tags"},
        },
    },
]

# SQLite in var/ by default; PostgreSQL (or any backend) through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time from the start of each write transaction: on SQLite this is what
    # keeps two bookings from both passing their overlap check (docs/booking.md).
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 5}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Argon2 first: new passwords are hashed with it (DESIGN.md, security).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end libraries come from the npm registry at setup (package-lock.json), never committed.
STATICFILES_DIRS = [
    BASE_DIR / "src" / "clinic" / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
MEDIA_ROOT = VAR_DIR / "media"

# Email: the console in development; any SMTP server through EMAIL_URL-style variables.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Dystonia Clinic <no-reply@localhost>")

# Background work: Django's Tasks API (django-tasks backport). Immediate by default;
# a worker backend (django-tasks-db on PostgreSQL, or RQ on Redis) through TASK_BACKEND.
TASKS = {
    "default": {
        "BACKEND": env_str("TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"),
    }
}

# A shared cache (Redis) when REDIS_URL is set; otherwise each process keeps its own.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions in the database by default; "django.contrib.sessions.backends.cache" with REDIS_URL
# keeps them in Redis (fewer database round trips per request).
SESSION_ENGINE = env_str("SESSION_ENGINE", "django.contrib.sessions.backends.db")

# Sessions: only the cookies the site needs; none are set for anonymous reading.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content security policy: this site's own assets only, nothing from other hosts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secret_paths": {"()": "clinic.logging.RedactSecretPaths"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_secret_paths"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # The PDF libraries log each step and each glyph at INFO: letters would flood the log.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Shown on every page: the unit's name, and where to go in an emergency.
CLINIC_NAME = env_str("CLINIC_NAME", "Dystonia Clinic")

# Sign-in.
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "information:home"
# Sessions end after this long without activity (every request extends them); signed-in pages
# warn SESSION_EXPIRY_WARNING_SECONDS before the end and offer to extend, since people with
# spasms may type slowly.
SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_EXPIRY_WARNING_SECONDS = 120
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_SECONDS
# Activity extends the session (accounts.middleware.SessionActivityMiddleware), written at
# most once a minute rather than on every request.
SESSION_ACTIVITY_WRITE_SECONDS = 60
# Lockout after repeated failed sign-ins, per account and per address, within a window.
SIGN_IN_LOCKOUT_WINDOW_SECONDS = env_int("SIGN_IN_LOCKOUT_WINDOW_SECONDS", default=15 * 60)
SIGN_IN_LOCKOUT_PER_ACCOUNT = env_int("SIGN_IN_LOCKOUT_PER_ACCOUNT", default=5)
SIGN_IN_LOCKOUT_PER_ADDRESS = env_int("SIGN_IN_LOCKOUT_PER_ADDRESS", default=20)
# Links in emails: password reset (Django's setting) and email verification.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
EMAIL_VERIFICATION_TIMEOUT_SECONDS = env_int(
    "EMAIL_VERIFICATION_TIMEOUT_SECONDS", default=3 * 24 * 3600
)
# How many reverse proxies in front of the app append to X-Forwarded-For; the client address
# (audit, lockout) is the hop that many places from the right. 0: use the connection's address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)
# The device admin shows no keys or QR codes (django-otp).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OTP_TOTP_ISSUER = CLINIC_NAME

# Enquiries: uploads (PDF, PNG, JPEG by content) and limits on queries from the public.
ENQUIRY_UPLOAD_MAX_BYTES = env_int("ENQUIRY_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
ENQUIRY_UPLOAD_MAX_FILES = env_int("ENQUIRY_UPLOAD_MAX_FILES", default=5)
ENQUIRY_UPLOAD_MAX_TOTAL_BYTES = env_int("ENQUIRY_UPLOAD_MAX_TOTAL_BYTES", default=25 * 1024 * 1024)
QUERY_RATE_LIMIT_PER_HOUR = env_int("QUERY_RATE_LIMIT_PER_HOUR", default=5)
# A person needs at least this long to write a query; bots that post at once are refused.
QUERY_MIN_SECONDS = env_int("QUERY_MIN_SECONDS", default=3)
# Django refuses request bodies (other than files) above this; files are checked above.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Booking.
CLINIC_TIME_ZONE = "Europe/London"
SLOT_STEP_MINUTES = env_int("SLOT_STEP_MINUTES", default=15)
SLOT_SEARCH_MAX_DAYS = env_int("SLOT_SEARCH_MAX_DAYS", default=62)
BOOKING_HORIZON_DAYS = env_int("BOOKING_HORIZON_DAYS", default=365)
# Patients may cancel or move an appointment online up to this long before it; reception any time.
CANCELLATION_CUTOFF_HOURS = env_int("CANCELLATION_CUTOFF_HOURS", default=24)
# How long a booking waits for another booking's row locks before answering 409 Retry-After.
BOOKING_LOCK_TIMEOUT_MS = env_int("BOOKING_LOCK_TIMEOUT_MS", default=3000)
# The longest window a clinician may open for patient-initiated follow-up, in days (an
# operational choice of the unit, not a clinical fact).
FOLLOW_UP_MAX_DAYS = env_int("FOLLOW_UP_MAX_DAYS", default=365)

# Messages to patients (docs/messages.md). Links in emails sent by background work start here.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# A reminder goes this long before the appointment (not sent if booked later than that).
REMINDER_HOURS_BEFORE = env_int("REMINDER_HOURS_BEFORE", default=48)
# A failed send is tried again after 1, 2, 4, 8 ... times this, up to MESSAGE_MAX_ATTEMPTS in
# all; then it is listed for reception as failed.
MESSAGE_RETRY_BASE_SECONDS = env_int("MESSAGE_RETRY_BASE_SECONDS", default=60)
MESSAGE_MAX_ATTEMPTS = env_int("MESSAGE_MAX_ATTEMPTS", default=5)

# Waiting list (docs/messages.md): a freed time is offered to this many waiting patients at
# once, held for them this long (once extendable by the second figure); first to accept books.
WAITLIST_OFFERS_PER_TIME = env_int("WAITLIST_OFFERS_PER_TIME", default=3)
WAITLIST_HOLD_HOURS = env_int("WAITLIST_HOLD_HOURS", default=24)
WAITLIST_HOLD_EXTENSION_HOURS = env_int("WAITLIST_HOLD_EXTENSION_HOURS", default=24)
