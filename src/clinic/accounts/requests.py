"""Facts about the request that sign-in and the audit trail record."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.http import HttpRequest

USER_AGENT_MAX_LENGTH = 200


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: REMOTE_ADDR, or the first X-Forwarded-For hop when the
    deployment says its proxy sets it (TRUST_X_FORWARDED_FOR)."""
    address = str(request.META.get("REMOTE_ADDR", ""))
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        address = forwarded.split(",")[0].strip() or address
    try:
        validate_ipv46_address(address)
    except ValidationError:
        return None
    return address


def user_agent(request: HttpRequest) -> str:
    """The browser's description of itself, shortened."""
    return request.headers.get("User-Agent", "")[:USER_AGENT_MAX_LENGTH]
