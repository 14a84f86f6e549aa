"""Letter URLs, included in records/urls.py under the records namespace."""

from django.urls import URLPattern, path  # noqa: F401 - path is for the patterns to come

urlpatterns: list[URLPattern] = []
