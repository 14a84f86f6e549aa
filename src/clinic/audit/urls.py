"""Audit URLs: /audit/ for administrators, /my/access-log/ for patients."""

from django.urls import path

from clinic.audit import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.audit_search, name="search"),
    path("audit/export.csv", views.audit_export, name="export"),
    path("my/access-log/", views.my_access_log, name="my-access-log"),
]
