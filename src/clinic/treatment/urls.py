"""Treatment URLs, under the treatment namespace: the patient's treatment page, and one module
of pages per part (deep brain stimulation here; medication, therapy and surgery below)."""

from django.urls import URLPattern, path

from clinic.treatment import dbs_views, medication_views, surgery_views, therapy_views, views

app_name = "treatment"
urlpatterns: list[URLPattern] = [
    path(
        "records/patients/<int:patient_id>/treatment/",
        views.patient_treatment,
        name="patient",
    ),
    # Deep brain stimulation pages (dbs_views)
    path(
        "records/patients/<int:patient_id>/treatment/dbs/new/",
        dbs_views.system_add,
        name="dbs-system-add",
    ),
    path(
        "records/dbs-systems/<int:system_id>/edit/", dbs_views.system_edit, name="dbs-system-edit"
    ),
    path(
        "records/dbs-systems/<int:system_id>/leads/<str:hemisphere>/",
        dbs_views.lead_save,
        name="dbs-lead",
    ),
    path(
        "records/dbs-systems/<int:system_id>/battery/new/",
        dbs_views.battery_add,
        name="dbs-battery-add",
    ),
    path(
        "records/dbs-systems/<int:system_id>/programming/new/",
        dbs_views.programming_add,
        name="dbs-programming-add",
    ),
    path(
        "records/dbs-programming/<int:programming_id>/",
        dbs_views.programming_detail,
        name="dbs-programming",
    ),
    # Medication pages (medication_views)
    path(
        "records/patients/<int:patient_id>/treatment/medications/new/",
        medication_views.medication_add,
        name="medication-add",
    ),
    path(
        "records/medications/<int:medication_id>/",
        medication_views.medication_detail,
        name="medication",
    ),
    path(
        "records/medications/<int:medication_id>/edit/",
        medication_views.medication_edit,
        name="medication-edit",
    ),
    path(
        "records/medications/<int:medication_id>/stop/",
        medication_views.medication_stop,
        name="medication-stop",
    ),
    path(
        "records/medications/<int:medication_id>/steps/new/",
        medication_views.step_add,
        name="medication-step-add",
    ),
    path(
        "records/titration-steps/<int:step_id>/remove/",
        medication_views.step_remove,
        name="medication-step-remove",
    ),
    # Therapy pages (therapy_views)
    path(
        "records/patients/<int:patient_id>/treatment/therapy/new/",
        therapy_views.referral_add,
        name="therapy-referral-add",
    ),
    path(
        "records/therapy-referrals/<int:referral_id>/",
        therapy_views.referral_detail,
        name="therapy-referral",
    ),
    path(
        "records/therapy-referrals/<int:referral_id>/edit/",
        therapy_views.referral_edit,
        name="therapy-referral-edit",
    ),
    path(
        "records/therapy-referrals/<int:referral_id>/sessions/new/",
        therapy_views.session_add,
        name="therapy-session-add",
    ),
    # Surgery pages (surgery_views)
    path(
        "records/patients/<int:patient_id>/treatment/procedures/new/",
        surgery_views.procedure_add,
        name="procedure-add",
    ),
    path(
        "records/procedures/<int:procedure_id>/",
        surgery_views.procedure_detail,
        name="procedure",
    ),
    path(
        "records/procedures/<int:procedure_id>/edit/",
        surgery_views.procedure_edit,
        name="procedure-edit",
    ),
]
