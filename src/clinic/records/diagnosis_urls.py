"""Diagnosis URLs, included in records/urls.py under the records namespace: the problem list
and the patient timeline (records/diagnosis_views.py)."""

from django.urls import URLPattern, path

from clinic.records import diagnosis_views

urlpatterns: list[URLPattern] = [
    path(
        "records/patients/<int:patient_id>/diagnoses/hemifacial-spasm/new/",
        diagnosis_views.hemifacial_spasm_add,
        name="diagnosis-add-hemifacial-spasm",
    ),
    path(
        "records/patients/<int:patient_id>/diagnoses/other/new/",
        diagnosis_views.diagnosis_other_add,
        name="diagnosis-add-other",
    ),
    path(
        "records/classification-reviews/<int:review_id>/add-to-problem-list/",
        diagnosis_views.diagnosis_add_from_review,
        name="diagnosis-add-from-review",
    ),
    path(
        "records/diagnoses/<int:diagnosis_id>/",
        diagnosis_views.diagnosis_detail,
        name="diagnosis-detail",
    ),
    path(
        "records/patients/<int:patient_id>/timeline/",
        diagnosis_views.patient_timeline,
        name="patient-timeline",
    ),
]
