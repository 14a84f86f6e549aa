"""Lockout after repeated failed sign-ins, per account and per address (docs/security.md).

Counted from FailedSignIn rows, so every application server sees the same count. Addresses
count by network (IPv6 by /64), so rotating through one's own addresses does not help.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from clinic.accounts.models import FailedSignIn, ThrottleEvent
from clinic.accounts.requests import address_network

LOCKED_ACCOUNT = (
    "Too many failed sign-ins for this account. For your security it is locked for "
    "{minutes} minutes. You can reset your password now if you have forgotten it."
)
LOCKED_ADDRESS = (
    "Too many failed sign-ins from this network. Please wait {minutes} minutes and try again."
)


@dataclass(frozen=True)
class Lockout:
    """Why sign-in is refused, as a message for the person."""

    message: str


def _window_start() -> datetime:
    return timezone.now() - timedelta(seconds=settings.SIGN_IN_LOCKOUT_WINDOW_SECONDS)


def _minutes() -> int:
    return max(1, settings.SIGN_IN_LOCKOUT_WINDOW_SECONDS // 60)


def sign_in_lockout(*, email: str, ip_address: str | None) -> Lockout | None:
    """The lockout in force for this account or address, if any."""
    recent = FailedSignIn.objects.filter(at__gte=_window_start())
    if recent.filter(email=email.strip().lower()).count() >= settings.SIGN_IN_LOCKOUT_PER_ACCOUNT:
        return Lockout(LOCKED_ACCOUNT.format(minutes=_minutes()))
    network = address_network(ip_address)
    by_network = recent.filter(network=network)
    if network and by_network.count() >= settings.SIGN_IN_LOCKOUT_PER_ADDRESS:
        return Lockout(LOCKED_ADDRESS.format(minutes=_minutes()))
    return None


def sign_in_failure_record(*, email: str, ip_address: str | None) -> None:
    """Count one failed sign-in, and forget those older than the window."""
    FailedSignIn.objects.filter(at__lt=_window_start()).delete()
    FailedSignIn.objects.create(
        email=email.strip().lower()[:254],
        ip_address=ip_address,
        network=address_network(ip_address),
    )


def sign_in_success_record(*, email: str) -> None:
    """A successful sign-in, or a password reset, clears the account's failures (not the
    address's)."""
    FailedSignIn.objects.filter(email=email.strip().lower()).delete()


def throttle_allows(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one use of a rate-limited action; False when the key already used its limit
    within the window (then nothing is counted)."""
    if not key:
        return True
    since = timezone.now() - timedelta(seconds=window_seconds)
    ThrottleEvent.objects.filter(scope=scope, at__lt=since).delete()
    if ThrottleEvent.objects.filter(scope=scope, key=key, at__gte=since).count() >= limit:
        return False
    ThrottleEvent.objects.create(scope=scope, key=key[:254])
    return True
