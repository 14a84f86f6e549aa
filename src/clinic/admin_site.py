"""The Django admin, open to the admin role only (deny by default)."""

from django.contrib import admin
from django.http import HttpRequest


class ClinicAdminSite(admin.AdminSite):
    """Admin for sites, practitioners, services, stories and news; admin role only."""

    site_header = "Dystonia Clinic administration"
    site_title = "Dystonia Clinic admin"
    index_title = "Manage the unit"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_admin_role", False))
