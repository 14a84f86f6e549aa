"""Calendar feeds: the feed a calendar app fetches by its secret address (no sign-in), and
the page where a clinician creates and revokes their feeds (docs/booking.md)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.records.access import AccessRefused
from clinic.scheduling import calendar_feeds, ical

FEED_REVOKED = "The feed is revoked: its address no longer works."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


@require_safe
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself, for a calendar app: 404 unless the token opens a usable feed."""
    read = calendar_feeds.feed_fetch(context=_context(request), token=token)
    if read is None:
        raise Http404("No such calendar feed")
    body = ical.practitioner_feed(read.feed.practitioner, read.appointments)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    # The times and hospital numbers stay out of shared caches and search engines.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def feeds(request: HttpRequest) -> HttpResponse:
    """A clinician's feeds; a POST creates one and shows its address, this once."""
    context = _context(request)
    try:
        listed = calendar_feeds.feeds_for_user(context=context)
        new_url = ""
        if request.method == "POST":
            if listed.practitioner is None:
                page = {"listed": listed, "error": calendar_feeds.NO_PRACTITIONER}
                return render(request, "scheduling/feeds.html", page, status=400)
            token = calendar_feeds.feed_create(context=context, practitioner=listed.practitioner)
            new_url = request.build_absolute_uri(reverse("scheduling:feed-ics", args=[token]))
            listed = calendar_feeds.feeds_for_user(context=context)
    except AccessRefused as error:
        raise error.page_error() from None
    return render(request, "scheduling/feeds.html", {"listed": listed, "new_url": new_url})


@login_required
@require_POST
def feed_revoke(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Revoke one of the clinician's feeds."""
    try:
        calendar_feeds.feed_revoke(context=_context(request), feed_id=feed_id)
    except AccessRefused as error:
        raise error.page_error() from None
    messages.success(request, FEED_REVOKED)
    return redirect("scheduling:feeds")
