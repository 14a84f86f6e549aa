"""Investigations and the work-up advice over the JSON API: list, order (by hand or from the
advice), read one, record its result, cancel it, attach a report and download it. Clinicians
only, as on the pages: handlers parse and call the same services and selectors
(investigations.py, investigation_files.py, investigation_selectors.py), which check access
and audit (channel API); api_support.answered() maps their refusals onto the one error shape
(400 becomes 422 naming the field, 403, 404, 409).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from django.http import FileResponse, HttpRequest
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from ninja.security import django_auth
from pydantic import Strict

from clinic.audit.models import AuditAction
from clinic.records import investigation_files, investigation_selectors, investigations
from clinic.records import investigation_rules as rules
from clinic.records import selectors as records_selectors
from clinic.records.access import DataCategory
from clinic.records.api_support import (
    FIELD_NAMES,
    NOT_FOUND,
    ApiProblem,
    ErrorOut,
    Id,
    StrictBool,
    answered,
    idempotent,
)
from clinic.records.api_support import api_context as _context
from clinic.records.investigation_views import report_response
from clinic.records.investigation_workup import WorkupAdvice
from clinic.records.models import (
    Investigation,
    InvestigationAttachment,
    InvestigationKind,
    LevodopaResponse,
    VariantClassification,
)
from clinic.records.record_api import IsoDate, WholeNumber

logger = logging.getLogger(__name__)

router = Router(tags=["investigations"], auth=django_auth)

FIELDS = {**FIELD_NAMES, "encounter": "encounter_id"}
NOT_FOUNDS = (investigations.InvestigationNotFound, investigation_files.AttachmentNotFound)
FILE_ANSWER: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The report (Content-Disposition: attachment; nosniff; no-store).",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in InvestigationAttachment.ContentType.values
            },
        }
    }
}

Number = Annotated[float, Strict()]  # a JSON number: never text, never true/false
Name = Annotated[str, Strict(), Field(max_length=rules.NAME_MAX_LENGTH)]
Unit = Annotated[str, Strict(), Field(max_length=20)]
Gene = Annotated[str, Strict(), Field(max_length=rules.GENE_MAX_LENGTH)]
Variant = Annotated[str, Strict(), Field(max_length=rules.VARIANT_MAX_LENGTH)]
Report = Annotated[str, Strict(), Field(max_length=rules.REPORT_MAX_LENGTH)]
Reason = Annotated[str, Strict(), Field(max_length=rules.REASON_MAX_LENGTH)]
Key = Annotated[str, Strict(), Field(max_length=240)]
ItemId = Annotated[str, Strict(), Field(max_length=40)]


@contextmanager
def _answered() -> Iterator[None]:
    """The investigation services' refusals and not-found answers in the API's shape."""
    try:
        with answered(rules.InvestigationRefused, fields=FIELDS):
            yield
    except NOT_FOUNDS:
        raise ApiProblem(404, NOT_FOUND) from None


# Schemas


class ReportOut(Schema):
    id: int
    name: str = Field(description="The uploader's file name, cleaned; for display only.")
    content_type: str
    size_bytes: int
    uploaded_at: datetime
    url: str


class InvestigationOut(Schema):
    id: int
    patient_id: int
    encounter_id: int | None
    kind: str
    kind_label: str
    name: str
    title: str
    workup_item: str
    status: str
    ordered_on: date
    ordered_by: str
    cancelled_reason: str
    resulted_on: date | None
    summary: str = Field(description="The result in one line, as the pages show it.")
    value: float | None = Field(description="In the analyte's canonical unit (`unit`).")
    unit: str
    entered_value: float | None
    entered_unit: str
    reference_low: float | None = Field(description="The range used, in `unit`.")
    reference_high: float | None
    reference_source: str
    flag: str
    interpretation: str = Field(description="The core's reading, as it was when resulted.")
    interpretation_source: str
    leipzig_points: int | None
    kf_rings: bool | None
    gene: str
    variant: str
    variant_classification: str
    levodopa_dose_mg_per_day: int | None
    levodopa_duration_days: int | None
    levodopa_response: str
    report: str
    reports: list[ReportOut] | None = Field(None, description="With one investigation only.")


class OrderIn(Schema):
    kind: InvestigationKind
    ordered_on: IsoDate
    name: Name = ""
    encounter_id: Id | None = None


class FromAdviceIn(Schema):
    item: ItemId = Field(description="The advice item's id, such as wilson_disease.")
    key: Key = Field(description="The advised investigation's key, from GET .../workup.")


class ResultIn(Schema):
    resulted_on: IsoDate
    value: Number | None = Field(None, description="Blood and urine tests, with `unit`.")
    unit: Unit = ""
    reference_low: Number | None = Field(None, description="The laboratory's, in `unit`.")
    reference_high: Number | None = None
    kf_rings: StrictBool | None = Field(None, description="Slit-lamp examination.")
    gene: Gene = ""
    variant: Variant = Field("", description="HGVS, such as NM_000053.4:c.3207C>A.")
    variant_classification: VariantClassification | None = None
    levodopa_dose_mg_per_day: WholeNumber | None = None
    levodopa_duration_days: WholeNumber | None = None
    levodopa_response: LevodopaResponse | None = None
    report: Report = ""


class CancelIn(Schema):
    reason: Reason


class AdviceLineOut(Schema):
    key: str
    name: str
    interpretation: str
    source: str
    kind: str | None
    state: str = Field(description="not_ordered, ordered, resulted, or advice (nothing to order).")
    investigation_id: int | None


class AdviceItemOut(Schema):
    id: str
    title: str
    reason: str
    status: str
    still_to_exclude: bool
    investigations: list[AdviceLineOut]


class WorkupOut(Schema):
    classification_review_id: int | None
    decided_at: datetime | None
    missing: str
    note: str
    red_flags: list[str]
    items: list[AdviceItemOut]


def _report(attachment: InvestigationAttachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size_bytes": attachment.size_bytes,
        "uploaded_at": attachment.uploaded_at,
        "url": f"/api/v1/investigation-reports/{attachment.pk}",
    }


def _investigation(
    row: Investigation, reports: list[InvestigationAttachment] | None = None
) -> dict[str, Any]:
    plain = {
        name: getattr(row, name) for name in InvestigationOut.model_fields if hasattr(row, name)
    }
    return InvestigationOut(
        **plain
        | {
            "kind_label": row.get_kind_display(),
            "ordered_by": row.ordered_by.full_name,
            "summary": row.result_summary,
            "reports": None if reports is None else [_report(r) for r in reports],
        }
    ).model_dump(mode="json")


def _workup(advice: WorkupAdvice) -> dict[str, Any]:
    review = advice.review
    return {
        "classification_review_id": review.pk if review else None,
        "decided_at": review.decided_at if review else None,
        "missing": advice.missing,
        "note": advice.note,
        "red_flags": advice.red_flags,
        "items": [
            {
                "id": item.id,
                "title": item.title,
                "reason": item.reason,
                "status": item.status,
                "still_to_exclude": item.is_cause and bool(item.outstanding),
                "investigations": [
                    {
                        "key": line.key,
                        "name": line.name,
                        "interpretation": line.interpretation,
                        "source": line.source,
                        "kind": line.kind.value if line.kind else None,
                        "state": line.state.value,
                        "investigation_id": line.investigation.pk if line.investigation else None,
                    }
                    for line in item.lines
                ],
            }
            for item in advice.items
        ],
    }


def _panel(request: HttpRequest, patient_id: int) -> investigation_selectors.InvestigationsPanel:
    context = _context(request)
    with _answered():
        patient = investigations.patient_for_investigations(
            context=context, patient_id=patient_id, action=AuditAction.READ
        )
        records_selectors.patient_for_user(
            context=context, patient_id=patient.pk, category=DataCategory.CLINICAL
        )
        return investigation_selectors.investigations_of_patient(context=context, patient=patient)


# Reads


@router.get(
    "/patients/{patient_id}/investigations",
    response={200: list[InvestigationOut], 403: ErrorOut, 404: ErrorOut},
    summary="A patient's investigations, latest order first (clinicians)",
)
def list_investigations(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    return [_investigation(row) for row in _panel(request, patient_id).investigations]


@router.get(
    "/patients/{patient_id}/workup",
    response={200: WorkupOut, 403: ErrorOut, 404: ErrorOut},
    summary="The work-up advice for the latest decided classification, with what is ordered",
)
def get_workup(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    return _workup(_panel(request, patient_id).advice)


@router.get(
    "/investigations/{investigation_id}",
    response={200: InvestigationOut, 404: ErrorOut},
    summary="One investigation with its result and reports (clinicians)",
)
def get_investigation(request: HttpRequest, investigation_id: int) -> dict[str, Any]:
    with _answered():
        detail = investigation_selectors.investigation_for_clinician(
            context=_context(request), investigation_id=investigation_id
        )
    return _investigation(detail.investigation, detail.attachments)


# Writes


@router.post(
    "/patients/{patient_id}/investigations",
    response={201: InvestigationOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Order an investigation (any clinician; Idempotency-Key supported)",
)
def order_investigation(request: HttpRequest, patient_id: int, payload: OrderIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        details = rules.OrderDetails(
            kind=payload.kind.value,
            ordered_on=payload.ordered_on,
            name=payload.name,
            encounter_id=payload.encounter_id,
        )
        with _answered():
            made = investigations.investigation_order(
                context=_context(request), patient_id=patient_id, details=details
            )
        return 201, _investigation(made)

    return idempotent(request, run)


@router.post(
    "/patients/{patient_id}/workup/orders",
    response={
        200: InvestigationOut,
        201: InvestigationOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    summary="Order, today, an investigation the advice lists (201; 200 when already ordered)",
)
def order_from_workup(request: HttpRequest, patient_id: int, payload: FromAdviceIn) -> Any:
    with _answered():
        made, created = investigations.investigation_order_from_workup(
            context=_context(request), patient_id=patient_id, item_id=payload.item, key=payload.key
        )
    return Status(201 if created else 200, _investigation(made))


@router.post(
    "/investigations/{investigation_id}/result",
    response={200: InvestigationOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Record an ordered investigation's result (409 resulted already, or cancelled)",
)
def record_result(request: HttpRequest, investigation_id: int, payload: ResultIn) -> dict[str, Any]:
    values = payload.model_dump()
    for choice in ("variant_classification", "levodopa_response"):
        values[choice] = values[choice].value if values[choice] is not None else ""
    details = rules.ResultDetails(**values)
    with _answered():
        done = investigations.investigation_result(
            context=_context(request), investigation_id=investigation_id, details=details
        )
    return _investigation(done)


@router.post(
    "/investigations/{investigation_id}/cancel",
    response={200: InvestigationOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Cancel an ordered investigation, with the reason (409 resulted or cancelled)",
)
def cancel_investigation(
    request: HttpRequest, investigation_id: int, payload: CancelIn
) -> dict[str, Any]:
    with _answered():
        done = investigations.investigation_cancel(
            context=_context(request), investigation_id=investigation_id, reason=payload.reason
        )
    return _investigation(done)


@router.post(
    "/investigations/{investigation_id}/reports",
    response={201: ReportOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Attach a report (multipart field `report`: a PDF, PNG or JPEG, checked by content)",
)
def attach_report(
    request: HttpRequest,
    investigation_id: int,
    report: File[UploadedFile],
) -> Status[dict[str, Any]]:
    with _answered():
        attachment = investigation_files.attachment_add(
            context=_context(request), investigation_id=investigation_id, upload=report
        )
    return Status(201, _report(attachment))


@router.get(
    "/investigation-reports/{attachment_id}",
    response={404: ErrorOut},
    summary="An attached report, as an attachment (an audited download)",
    openapi_extra=FILE_ANSWER,
)
def download_report(request: HttpRequest, attachment_id: int) -> FileResponse:
    with _answered():
        attachment = investigation_files.attachment_for_download(
            context=_context(request), attachment_id=attachment_id
        )
    try:
        return report_response(attachment)
    except OSError:  # the row is there, the file is not
        logger.exception("The stored report %s cannot be opened", attachment.pk)
        raise ApiProblem(404, NOT_FOUND) from None
