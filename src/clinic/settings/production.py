"""Production: refuses to start without SECRET_KEY and ALLOWED_HOSTS; secure cookies, HSTS."""

from clinic.settings.base import *  # noqa: F403
from clinic.settings.environment import env_bool, env_int, env_list, env_required

DEBUG = False
SECRET_KEY = env_required(
    "SECRET_KEY",
    why="a long random string, e.g. from `python -c 'import secrets; "
    "print(secrets.token_urlsafe(50))'`; it signs sessions and tokens.",
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    env_required("ALLOWED_HOSTS", why="the host names this site answers to, comma-separated.")

# Persistent database connections: opening one per request costs more than the request.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", default=60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The site is HTTPS-only for good; set SECURE_HSTS_PRELOAD=false for a domain that is not.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
