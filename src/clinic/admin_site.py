"""The Django admin, open to the admin role only, after two-factor sign-in (deny by default)."""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


class ClinicAdminSite(admin.AdminSite):
    """Admin for sites, practitioners, services, stories, news and accounts; admin role only."""

    site_header = "Dystonia Clinic administration"
    site_title = "Dystonia Clinic admin"
    index_title = "Manage the unit"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        verified = getattr(user, "is_verified", lambda: False)()
        return bool(user.is_active and getattr(user, "is_admin_role", False) and verified)

    def login(self, request: HttpRequest, extra_context: object = None) -> HttpResponse:
        """One sign-in for the whole site (lockout, two-factor); signed-in people without
        the admin role are refused rather than asked to sign in again."""
        next_url = request.GET.get("next", reverse("admin:index"))
        query = urlencode({"next": next_url})
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:sign-in')}?{query}")
        if getattr(request.user, "is_admin_role", False):
            return redirect(f"{reverse('accounts:two-factor')}?{query}")
        raise PermissionDenied
