"""Investigation pages for clinicians: the patient's investigations with the work-up advice,
ordering (by hand, or with the advice's "Order" button), one investigation, recording its
result, cancelling it. The services and selectors refuse (and audit) everyone else: reception
and administrators 403 on a patient's pages and 404 for an investigation's id, patients 404.
A refused write shows the page again with the writer's entries kept."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.audit.models import AuditAction, AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import alerts, investigation_files, investigation_selectors, investigations
from clinic.records import selectors as records_selectors
from clinic.records.access import AccessRefused, DataCategory
from clinic.records.investigation_files import AttachmentNotFound
from clinic.records.investigation_forms import (
    AttachmentForm,
    CancelForm,
    FromAdviceForm,
    OrderForm,
    ResultForm,
)
from clinic.records.investigation_rules import InvestigationRefused
from clinic.records.investigations import InvestigationNotFound
from clinic.records.models import Encounter, Investigation, InvestigationAttachment, Patient

ORDERED = "Ordered: {title}."
ALREADY_ORDERED = "Already ordered on {day}: {title}."
RESULTED = "Result recorded."
CANCELLED = "Investigation cancelled."
ATTACHED = "Report attached."
ENCOUNTERS_OFFERED = 50

logger = logging.getLogger(__name__)


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _placed(refusal: InvestigationRefused, form: forms.Form) -> str:
    """Put a refusal beside its field when the form has it; else return it for the top."""
    if refusal.field in form.fields:
        form.add_error(refusal.field, refusal.message)
        return ""
    return refusal.message


def _patient(request: HttpRequest, patient_id: int, action: AuditAction) -> Patient:
    """The patient, for a clinician (an audited read of their record), or the page's error."""
    context = _context(request)
    try:
        investigations.patient_for_investigations(
            context=context, patient_id=patient_id, action=action
        )
        return records_selectors.patient_for_user(
            context=context, patient_id=patient_id, category=DataCategory.CLINICAL
        )
    except records_selectors.PatientNotFound:
        raise Http404("No such patient") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _detail(
    request: HttpRequest, investigation_id: int
) -> investigation_selectors.InvestigationDetail:
    try:
        return investigation_selectors.investigation_for_clinician(
            context=_context(request), investigation_id=investigation_id
        )
    except InvestigationNotFound:
        raise Http404("No such investigation") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _list_page(
    request: HttpRequest, patient: Patient, *, refusal: str = "", status: int = 200
) -> HttpResponse:
    try:
        panel = investigation_selectors.investigations_of_patient(
            context=_context(request), patient=patient
        )
    except AccessRefused as error:
        raise error.page_error() from None
    page = {
        "patient": patient,
        "panel": panel,
        "refusal": refusal,
        "return_to": "investigations",
        "alerts": alerts.active_alerts(patient),
    }
    return render(request, "records/investigations.html", page, status=status)


@login_required
@require_safe
def patient_investigations(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's investigations, newest first, beside the work-up advice."""
    patient = _patient(request, patient_id, AuditAction.READ)
    return _list_page(request, patient)


@login_required
@require_http_methods(["GET", "POST"])
def investigation_order(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Order an investigation by hand."""
    patient = _patient(request, patient_id, AuditAction.CREATE)
    encounters = list(
        Encounter.objects.filter(patient=patient).order_by("-started_at", "-pk")[
            :ENCOUNTERS_OFFERED
        ]
    )
    bound = request.method == "POST"
    form = OrderForm(request.POST if bound else None, encounters=encounters)
    refusal, status = "", 400 if bound else 200
    if bound and form.is_valid():
        try:
            made = investigations.investigation_order(
                context=_context(request), patient_id=patient.pk, details=form.details()
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except InvestigationRefused as problem:
            refusal, status = _placed(problem, form), problem.status
        else:
            messages.success(request, ORDERED.format(title=made.title))
            return redirect("records:investigation-detail", investigation_id=made.pk)
    page = {
        "patient": patient,
        "form": form,
        "refusal": refusal,
        "alerts": alerts.active_alerts(patient),
    }
    return render(request, "records/investigation_order.html", page, status=status)


@login_required
@require_POST
def investigation_order_from_workup(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The advice's "Order" button: order that investigation today, then back to the page the
    button was on."""
    patient = _patient(request, patient_id, AuditAction.CREATE)
    form = FromAdviceForm(request.POST)
    if not form.is_valid():
        return _list_page(request, patient, refusal=investigations.ADVICE_CHANGED, status=400)
    data = form.cleaned_data
    try:
        made, created = investigations.investigation_order_from_workup(
            context=_context(request), patient_id=patient.pk, item_id=data["item"], key=data["key"]
        )
    except AccessRefused as error:
        raise error.page_error() from None
    except InvestigationRefused as problem:
        return _list_page(request, patient, refusal=problem.message, status=problem.status)
    day = f"{made.ordered_on.day} {made.ordered_on:%B %Y}"
    text = ORDERED if created else ALREADY_ORDERED
    messages.success(request, text.format(title=made.title, day=day))
    if data.get("return_to") == "patient":
        return redirect("records:patient-detail", patient_id=patient.pk)
    return redirect("records:patient-investigations", patient_id=patient.pk)


def _detail_page(
    request: HttpRequest,
    detail: investigation_selectors.InvestigationDetail,
    form: AttachmentForm,
    *,
    status: int = 200,
) -> HttpResponse:
    patient = detail.investigation.patient
    page = {
        "patient": patient,
        "detail": detail,
        "investigation": detail.investigation,
        "attachment_form": form,
        "alerts": alerts.active_alerts(patient),
    }
    return render(request, "records/investigation_detail.html", page, status=status)


@login_required
@require_safe
def investigation_detail(request: HttpRequest, investigation_id: int) -> HttpResponse:
    """One investigation: its order, its result with the core's reading, its reports."""
    return _detail_page(request, _detail(request, investigation_id), AttachmentForm())


@login_required
@require_POST
def attachment_add(request: HttpRequest, investigation_id: int) -> HttpResponse:
    """Attach a report (a PDF or an image of it) to the investigation."""
    detail = _detail(request, investigation_id)
    form = AttachmentForm(request.POST, request.FILES)
    form.is_valid()  # every field is optional: the service checks the file
    try:
        investigation_files.attachment_add(
            context=_context(request),
            investigation_id=detail.investigation.pk,
            upload=request.FILES.get("report"),
        )
    except InvestigationNotFound:
        raise Http404("No such investigation") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except InvestigationRefused as problem:
        form.add_error("report" if problem.field == "report" else None, problem.message)
        return _detail_page(request, detail, form, status=problem.status)
    messages.success(request, ATTACHED)
    return redirect("records:investigation-detail", investigation_id=detail.investigation.pk)


@login_required
@require_safe
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    """An attached report, for clinicians: always a download, never shown inline, with the
    type found by content and a name of ids only; an audited export."""
    try:
        attachment = investigation_files.attachment_for_download(
            context=_context(request), attachment_id=attachment_id
        )
    except AttachmentNotFound:
        raise Http404("No such report") from None
    except AccessRefused as error:
        raise error.page_error() from None
    try:
        return report_response(attachment)
    except OSError:  # FileNotFoundError included: the row is there, the file is not
        logger.exception("The stored report %s cannot be opened", attachment.pk)
        raise Http404("No such report") from None


def report_response(attachment: InvestigationAttachment) -> FileResponse:
    """The report as a download no browser shows inline, sniffs or keeps: the type found by
    content, a name of ids only. Raises OSError when the stored file cannot be opened."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=investigation_files.download_name(attachment),
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _write_page(
    request: HttpRequest,
    investigation: Investigation,
    form: forms.Form,
    *,
    mode: str,
    save: Any,
    done: str,
) -> HttpResponse:
    """Call ``save`` with a valid bound form, then back to the investigation; else show the
    form again (400 for bad input, the refusal's status for a refusal)."""
    refusal, status = "", 400 if form.is_bound else 200
    if form.is_bound and form.is_valid():
        try:
            save()
        except InvestigationNotFound:
            raise Http404("No such investigation") from None
        except AccessRefused as error:
            raise error.page_error() from None
        except InvestigationRefused as problem:
            refusal, status = _placed(problem, form), problem.status
        else:
            messages.success(request, done)
            return redirect("records:investigation-detail", investigation_id=investigation.pk)
    page = {
        "patient": investigation.patient,
        "investigation": investigation,
        "form": form,
        "mode": mode,
        "refusal": refusal,
        "alerts": alerts.active_alerts(investigation.patient),
    }
    return render(request, "records/investigation_form.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def investigation_result(request: HttpRequest, investigation_id: int) -> HttpResponse:
    """Record the result of an ordered investigation."""
    found = _detail(request, investigation_id).investigation
    data = request.POST if request.method == "POST" else None
    form = ResultForm(data, kind=found.kind, ordered_on=found.ordered_on)

    def save() -> object:
        return investigations.investigation_result(
            context=_context(request), investigation_id=found.pk, details=form.details()
        )

    return _write_page(request, found, form, mode="result", save=save, done=RESULTED)


@login_required
@require_http_methods(["GET", "POST"])
def investigation_cancel(request: HttpRequest, investigation_id: int) -> HttpResponse:
    """Cancel an ordered investigation, with the reason."""
    found = _detail(request, investigation_id).investigation
    form = CancelForm(request.POST if request.method == "POST" else None)

    def save() -> object:
        return investigations.investigation_cancel(
            context=_context(request),
            investigation_id=found.pk,
            reason=form.cleaned_data["reason"],
        )

    return _write_page(request, found, form, mode="cancel", save=save, done=CANCELLED)
