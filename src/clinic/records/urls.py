"""Record URLs: the patient's own page under /my/, staff pages under /records/."""

from django.urls import path

from clinic.records import views

app_name = "records"
urlpatterns = [
    path("my/", views.my_record, name="my-record"),
    path("records/patients/", views.patient_list, name="patient-list"),
    path("records/patients/new/", views.patient_create, name="patient-create"),
    path("records/patients/<int:patient_id>/", views.patient_detail, name="patient-detail"),
    path("records/patients/<int:patient_id>/edit/", views.patient_edit, name="patient-edit"),
]
