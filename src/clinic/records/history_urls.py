"""History URLs, included in records/urls.py under the records namespace: an encounter's
history, and the patient's family and drug history (records/history_views.py)."""

from django.urls import URLPattern, path

from clinic.records import history_views

urlpatterns: list[URLPattern] = [
    path(
        "records/encounters/<int:encounter_id>/history/",
        history_views.encounter_history,
        name="encounter-history",
    ),
    path(
        "records/patients/<int:patient_id>/relatives/new/",
        history_views.relative_add,
        name="relative-add",
    ),
    path(
        "records/relatives/<int:relative_id>/edit/",
        history_views.relative_edit,
        name="relative-edit",
    ),
    path(
        "records/relatives/<int:relative_id>/remove/",
        history_views.relative_remove,
        name="relative-remove",
    ),
    path(
        "records/patients/<int:patient_id>/drugs/new/",
        history_views.drug_add,
        name="drug-add",
    ),
    path("records/drugs/<int:drug_id>/edit/", history_views.drug_edit, name="drug-edit"),
    path("records/drugs/<int:drug_id>/stop/", history_views.drug_stop, name="drug-stop"),
    path("records/drugs/<int:drug_id>/remove/", history_views.drug_remove, name="drug-remove"),
]
