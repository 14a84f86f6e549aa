"""Top-level URLs: public pages, the directory, the JSON API and the admin."""

from django.contrib import admin
from django.urls import include, path

from clinic.api import api

urlpatterns = [
    path("", include("clinic.information.urls")),
    path("", include("clinic.directory.urls")),
    path("accounts/", include("clinic.accounts.urls")),
    path("enquiries/", include("clinic.enquiries.urls")),
    path("appointments/", include("clinic.scheduling.urls")),
    path("", include("clinic.records.urls")),
    path("", include("clinic.treatment.urls")),
    path("", include("clinic.audit.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler400 = "clinic.errors.bad_request"
handler403 = "clinic.errors.permission_denied"
handler404 = "clinic.errors.page_not_found"
handler500 = "clinic.errors.server_error"
