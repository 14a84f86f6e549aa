"""Values every page template needs (the unit's name in the header and footer)."""

from django.conf import settings
from django.http import HttpRequest


def site_chrome(_request: HttpRequest) -> dict[str, str]:
    """The clinic's display name."""
    return {"clinic_name": settings.CLINIC_NAME}
