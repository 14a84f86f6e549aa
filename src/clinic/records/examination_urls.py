"""Examination URLs, included in records/urls.py under the records namespace: the examination
of an encounter and the decision on its classification (records/examination_views.py)."""

from django.urls import URLPattern, path

from clinic.records import examination_views

urlpatterns: list[URLPattern] = [
    path(
        "records/encounters/<int:encounter_id>/examination/",
        examination_views.examination_edit,
        name="examination-edit",
    ),
    path(
        "records/classification-reviews/<int:review_id>/decide/",
        examination_views.classification_decide,
        name="classification-decide",
    ),
]
