"""Private calendar feeds: a secret address per feed that a practitioner's calendar app
subscribes to (docs/booking.md, "Calendar feeds").

The token is shown once and stored only as its SHA-256, so neither the database nor the
audit trail holds a working address. Creating and revoking are writes (one transaction
each, audited); fetching is an audited read, refused (404) for an unknown, malformed or
revoked token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from clinic.directory.models import Practitioner
from clinic.records.access import AccessRefused, access_calendar_feed, refuse, two_factor_done
from clinic.scheduling.models import Appointment, AppointmentStatus, CalendarFeed
from clinic.scheduling.tokens import new_token, token_hash

OBJECT_TYPE = "calendar_feed"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
# What the feed covers: a month back (for letters and notes) and a year ahead (the booking
# horizon), at most this many events, the furthest ahead left out first.
FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=365)
FEED_MAX_EVENTS = 5000
# The audit trail records this path instead of the real one, which holds the secret token.
REDACTED_PATH = "/appointments/feeds/[token].ics"
NO_PRACTITIONER = (
    "Your account is not linked to an entry in the directory of practitioners, so it has no "
    "appointments to show. Ask an administrator to link it."
)


@dataclass(frozen=True)
class FeedRead:
    """A feed fetched by its token, with the appointments it shows."""

    feed: CalendarFeed
    appointments: list[Appointment]


@dataclass(frozen=True)
class FeedList:
    """A clinician's own feeds; ``practitioner`` is None when their account has no directory
    entry (and so no appointments)."""

    practitioner: Practitioner | None
    feeds: list[CalendarFeed]


def _audit(context: AuditContext, action: AuditAction, feed: CalendarFeed, detail: str) -> None:
    audit_record(
        context=context,
        action=action,
        outcome=AuditOutcome.ALLOWED,
        object_type=OBJECT_TYPE,
        object_id=feed.pk,
        detail=detail,
    )


def feed_create(*, context: AuditContext, practitioner: Practitioner) -> str:
    """A new feed of the practitioner's appointments; returns its token, which is shown once
    and never stored. Older feeds stay active until revoked."""
    actor = context.actor
    if actor is None or not access_calendar_feed(
        actor, practitioner_id=practitioner.pk, create=True
    ):
        raise refuse(
            context,
            object_type=OBJECT_TYPE,
            action=AuditAction.CREATE,
            detail=f"feed for practitioner {practitioner.pk} refused",
        )
    token = new_token()
    with transaction.atomic():
        feed = CalendarFeed.objects.create(
            practitioner=practitioner, token_hash=token_hash(token), created_by=actor
        )
        _audit(context, AuditAction.CREATE, feed, f"feed created for {practitioner.slug}")
    return token


def feed_revoke(*, context: AuditContext, feed_id: int) -> CalendarFeed:
    """Revoke a feed: its address answers 404 from now on. Revoking a revoked feed changes
    nothing. Raises AccessRefused (audited) for a feed that is not the user's or not there."""
    feed = CalendarFeed.objects.filter(pk=feed_id).first()
    if feed is None:
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            outcome=AuditOutcome.REFUSED,
            object_type=OBJECT_TYPE,
            object_id=feed_id,
            detail="revoke refused: no such feed",
        )
        raise AccessRefused(reveal=False)
    if not access_calendar_feed(context.actor, practitioner_id=feed.practitioner_id, create=False):
        raise refuse(
            context,
            object_type=OBJECT_TYPE,
            object_id=feed.pk,
            action=AuditAction.UPDATE,
            detail="revoke refused",
        )
    with transaction.atomic():
        now = timezone.now()
        changed = CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if changed:
            _audit(context, AuditAction.UPDATE, feed, "feed revoked")
    feed.refresh_from_db(fields=["revoked_at"])
    return feed


def _find(token: str) -> CalendarFeed | None:
    """The feed with this token, revoked or not; None for a token of the wrong shape
    without asking the database. The lookup is by the hash's unique index: no comparison of
    secrets in Python, so no timing to measure."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    return (
        CalendarFeed.objects.select_related("practitioner__user")
        .filter(token_hash=token_hash(token))
        .first()
    )


def _usable(feed: CalendarFeed) -> bool:
    """Not revoked, and its practitioner (and their account, if any) still active."""
    if feed.revoked_at is not None:
        return False
    if not feed.practitioner.is_active:
        return False
    account = getattr(feed.practitioner, "user", None)
    return account is None or account.is_active


def feed_by_token(token: str) -> CalendarFeed | None:
    """The usable feed this token opens, or None (unknown, malformed or revoked)."""
    feed = _find(token)
    return feed if feed is not None and _usable(feed) else None


def feed_appointments(
    *, practitioner: Practitioner, now: datetime | None = None
) -> list[Appointment]:
    """The practitioner's appointments that a feed shows: from FEED_PAST ago to FEED_AHEAD
    ahead, all but cancelled ones, at most FEED_MAX_EVENTS, in one query with the rows the
    calendar needs."""
    now = now or timezone.now()
    appointments = (
        Appointment.objects.filter(
            practitioner=practitioner, start__gte=now - FEED_PAST, start__lt=now + FEED_AHEAD
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "service", "site", "resource")
        .order_by("start", "pk")
    )
    return list(appointments[:FEED_MAX_EVENTS])


def feed_fetch(*, context: AuditContext, token: str) -> FeedRead | None:
    """A calendar app's fetch of a feed: the feed and its appointments, or None (answer 404)
    for an unknown, malformed or revoked token. Either way one audit entry, which never
    holds the token. Three queries whatever the number of appointments."""
    context = replace(context, path=REDACTED_PATH)
    feed = _find(token)
    if feed is None or not _usable(feed):
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type=OBJECT_TYPE,
            object_id=feed.pk if feed else "",
            detail="revoked or inactive feed" if feed else "unknown or malformed token",
        )
        return None
    appointments = feed_appointments(practitioner=feed.practitioner)
    _audit(context, AuditAction.READ, feed, f"feed fetched: {len(appointments)} appointments")
    return FeedRead(feed=feed, appointments=appointments)


def feeds_for_user(*, context: AuditContext) -> FeedList:
    """The signed-in clinician's own feeds, newest first. Anyone else is refused (audited):
    patients learn nothing (404), other staff are told (403)."""
    user = context.actor
    if user is None or user.role != Role.CLINICIAN or not two_factor_done(user):
        raise refuse(context, object_type=OBJECT_TYPE, detail="feeds page refused")
    practitioner = user.practitioner
    if practitioner is None:
        return FeedList(practitioner=None, feeds=[])
    return FeedList(
        practitioner=practitioner,
        feeds=list(CalendarFeed.objects.filter(practitioner=practitioner)),
    )
