"""Merge URLs, included in records/urls.py under the records namespace (administrators)."""

from django.urls import path

from clinic.records import merge_views

urlpatterns = [
    path("records/merge/", merge_views.merge_choose, name="merge-choose"),
    path("records/merge/compare/", merge_views.merge_compare, name="merge-compare"),
    path("records/merge/done/", merge_views.merge_done, name="merge-done"),
]
