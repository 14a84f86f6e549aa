"""Values every page template needs: the unit's name, and the session timings that drive
the inactivity warning on signed-in pages."""

from django.conf import settings
from django.http import HttpRequest


def site_chrome(_request: HttpRequest) -> dict[str, object]:
    """The clinic's display name and the session timings."""
    return {
        "clinic_name": settings.CLINIC_NAME,
        "session_timeout_seconds": settings.SESSION_IDLE_TIMEOUT_SECONDS,
        "session_warning_seconds": settings.SESSION_EXPIRY_WARNING_SECONDS,
    }
