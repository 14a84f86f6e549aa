"""Project-wide app configuration: the admin site used by every app."""

from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    """Django's admin, replaced by the clinic's own site that only the admin role may enter."""

    default_site = "clinic.admin_site.ClinicAdminSite"
