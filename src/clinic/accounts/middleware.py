"""Two-factor sign-in is required for staff (and patients who turned it on) before any page
or API call other than the two-factor pages themselves."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from clinic.accounts.services import two_factor_required

TWO_FACTOR_NEEDED = "Two-factor sign-in is required: complete it in the browser first."
# Reachable before the second factor: the two-factor pages, signing out, static files.
EXEMPT_URL_NAMES = ("accounts:two-factor", "accounts:two-factor-setup", "accounts:sign-out")


class StaffTwoFactorMiddleware:
    """Sends a signed-in person who still owes a second factor to the two-factor page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        verified = getattr(user, "is_verified", lambda: False)
        if (
            user.is_authenticated
            and not verified()
            and not self._exempt(request.path)
            and _second_factor_owed(request)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": TWO_FACTOR_NEEDED, "errors": []}, status=403)
            target = reverse("accounts:two-factor")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        if path.startswith("/static/"):
            return True
        return any(path == reverse(name) for name in EXEMPT_URL_NAMES)


# The session remembers whether its person needs a second factor, so an ordinary request
# asks the database only once per session. Turning two-factor on happens in a verified
# session, so the remembered answer never lets anyone skip it.
SECOND_FACTOR_KEY = "clinic.second_factor_required"


def _second_factor_owed(request: HttpRequest) -> bool:
    remembered = request.session.get(SECOND_FACTOR_KEY)
    if remembered is None:
        remembered = two_factor_required(request.user)  # type: ignore[arg-type]
        request.session[SECOND_FACTOR_KEY] = remembered
    return bool(remembered)


class SessionActivityMiddleware:
    """Keeps a signed-in session alive while it is used: its expiry moves forward with
    activity (the idle timeout), but the session row is written at most once every
    SESSION_ACTIVITY_WRITE_SECONDS instead of on every request."""

    STAMP_KEY = "clinic.last_activity"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key and not session.is_empty():
            now = int(time.time())
            last = int(session.get(self.STAMP_KEY, 0))
            if now - last >= settings.SESSION_ACTIVITY_WRITE_SECONDS:
                session[self.STAMP_KEY] = now  # marks it modified: saved with a fresh expiry
        return response
