"""Two-factor sign-in is required for staff (and patients who turned it on) before any page
or API call other than the two-factor pages themselves."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

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
            and two_factor_required(user)
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
