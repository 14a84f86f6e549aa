"""Record URLs: the patient's own page under /my/, staff pages under /records/."""

from django.urls import include, path

from clinic.records import alert_views, contact_views, encounter_views, views

app_name = "records"
urlpatterns = [
    path("my/", views.my_record, name="my-record"),
    path("records/patients/", views.patient_list, name="patient-list"),
    path("records/patients/new/", views.patient_create, name="patient-create"),
    path("records/patients/<int:patient_id>/", views.patient_detail, name="patient-detail"),
    path("records/patients/<int:patient_id>/edit/", views.patient_edit, name="patient-edit"),
    # Next of kin, allergies and alerts (reception and clinicians): contact_views, alert_views
    path(
        "records/patients/<int:patient_id>/next-of-kin/new/",
        contact_views.next_of_kin_add,
        name="next-of-kin-add",
    ),
    path(
        "records/next-of-kin/<int:next_of_kin_id>/edit/",
        contact_views.next_of_kin_edit,
        name="next-of-kin-edit",
    ),
    path(
        "records/next-of-kin/<int:next_of_kin_id>/remove/",
        contact_views.next_of_kin_remove,
        name="next-of-kin-remove",
    ),
    path("records/patients/<int:patient_id>/alerts/new/", alert_views.alert_add, name="alert-add"),
    path("records/alerts/<int:alert_id>/end/", alert_views.alert_end, name="alert-end"),
    # Encounters (clinicians): records/encounter_views.py
    path("records/clinic/", encounter_views.clinic_today, name="clinic-today"),
    path(
        "records/patients/<int:patient_id>/encounters/new/",
        encounter_views.encounter_new,
        name="encounter-new",
    ),
    path(
        "records/encounters/<int:encounter_id>/",
        encounter_views.encounter_detail,
        name="encounter-detail",
    ),
    path(
        "records/encounters/<int:encounter_id>/sign/",
        encounter_views.encounter_sign,
        name="encounter-sign",
    ),
    path(
        "records/encounters/<int:encounter_id>/addenda/new/",
        encounter_views.addendum_new,
        name="addendum-new",
    ),
    # History, examination and classification, diagnoses, letters, merging: one module each.
    path("", include("clinic.records.history_urls")),
    path("", include("clinic.records.examination_urls")),
    path("", include("clinic.records.diagnosis_urls")),
    path("", include("clinic.records.letter_urls")),
    path("", include("clinic.records.merge_urls")),
    path("", include("clinic.records.investigation_urls")),
]
