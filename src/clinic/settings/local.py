"""Development: debug on, a development secret, SQLite in var/, email to the console."""

from clinic.settings.base import *  # noqa: F403
from clinic.settings.environment import env_list, env_str

DEBUG = True
# A development-only secret; production refuses to start without SECRET_KEY.
SECRET_KEY = env_str("SECRET_KEY", "development-only-secret-not-for-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
