"""Benchmarks only (bench/): production-like (no debug), on the benchmark's own database."""

from clinic.settings.base import *  # noqa: F403
from clinic.settings.environment import env_int, env_str

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY", "bench-only-secret-not-for-production")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# Static files come from the finders, so a benchmark needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The benchmark signs in many made-up users; hashing speed is not what it measures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# As in production: persistent database connections.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", default=60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
# As in production: background work (emails) is queued in the database for `db_worker`
# processes on other machines; the benchmark measures booking, not sending.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
