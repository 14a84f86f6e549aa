"""Investigation URLs, included in records/urls.py under the records namespace
(records/investigation_views.py, and the attached reports' download)."""

from django.urls import URLPattern, path

from clinic.records import investigation_views

urlpatterns: list[URLPattern] = [
    path(
        "records/patients/<int:patient_id>/investigations/",
        investigation_views.patient_investigations,
        name="patient-investigations",
    ),
    path(
        "records/patients/<int:patient_id>/investigations/new/",
        investigation_views.investigation_order,
        name="investigation-order",
    ),
    path(
        "records/patients/<int:patient_id>/investigations/order-from-advice/",
        investigation_views.investigation_order_from_workup,
        name="investigation-order-from-workup",
    ),
    path(
        "records/investigations/<int:investigation_id>/",
        investigation_views.investigation_detail,
        name="investigation-detail",
    ),
    path(
        "records/investigations/<int:investigation_id>/result/",
        investigation_views.investigation_result,
        name="investigation-result",
    ),
    path(
        "records/investigations/<int:investigation_id>/cancel/",
        investigation_views.investigation_cancel,
        name="investigation-cancel",
    ),
    path(
        "records/investigations/<int:investigation_id>/reports/new/",
        investigation_views.attachment_add,
        name="investigation-attachment-add",
    ),
    path(
        "records/investigation-reports/<int:attachment_id>/",
        investigation_views.attachment_download,
        name="investigation-attachment",
    ),
]
