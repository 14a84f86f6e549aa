"""Problem-list pages and the patient timeline, for clinicians: add hemifacial spasm, another
diagnosis, or a decided classification; change a diagnosis's status; the timeline. The
services and selectors refuse (and audit) everyone else: reception and administrators 403 on
a patient's pages and 404 for a diagnosis or classification by its id, patients 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from clinic.audit.models import AuditAction, AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import alerts, diagnoses, diagnosis_selectors, timeline
from clinic.records import selectors as records_selectors
from clinic.records.access import AccessRefused, DataCategory
from clinic.records.diagnoses import DiagnosisNotFound, DiagnosisRefused
from clinic.records.diagnosis_forms import (
    DiagnosisStatusForm,
    FromReviewForm,
    HemifacialSpasmForm,
    OtherDiagnosisForm,
    TimelineFilterForm,
)
from clinic.records.models import Diagnosis, Patient
from clinic.scheduling.availability import clinic_tz

ADDED = "Added to the problem list."
STATUS_CHANGED = "Diagnosis status changed."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _patient(request: HttpRequest, patient_id: int, action: AuditAction) -> Patient:
    """The patient, for a clinician (an audited read of their record), or the page's error."""
    context = _context(request)
    try:
        diagnoses.patient_for_diagnoses(context=context, patient_id=patient_id, action=action)
        return records_selectors.patient_for_user(
            context=context, patient_id=patient_id, category=DataCategory.CLINICAL
        )
    except records_selectors.PatientNotFound:
        raise Http404("No such patient") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _placed(refusal: DiagnosisRefused, form: forms.Form) -> str:
    """Put a refusal beside its field when the form has it; else return it for the top."""
    if refusal.field in form.fields:
        form.add_error(refusal.field, refusal.message)
        return ""
    return refusal.message


def _add_page(
    request: HttpRequest,
    patient_id: int,
    *,
    form_class: type[HemifacialSpasmForm | OtherDiagnosisForm],
    add: Callable[..., Diagnosis],
    heading: str,
) -> HttpResponse:
    patient = _patient(request, patient_id, AuditAction.CREATE)
    form = form_class(request.POST if request.method == "POST" else None)
    refusal, status = "", 200
    if form.is_bound and form.is_valid():
        try:
            diagnosis = add(context=_context(request), patient_id=patient.pk, **form.cleaned_data)
        except AccessRefused as error:
            raise error.page_error() from None
        except DiagnosisRefused as problem:
            refusal, status = _placed(problem, form), problem.status
        else:
            messages.success(request, ADDED)
            return redirect("records:diagnosis-detail", diagnosis_id=diagnosis.pk)
    elif form.is_bound:
        status = 400
    page = {
        "form": form,
        "patient": patient,
        "refusal": refusal,
        "heading": heading,
        "alerts": alerts.active_alerts(patient),
    }
    return render(request, "records/diagnosis_form.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def hemifacial_spasm_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record hemifacial spasm (not a dystonia), with its side."""
    return _add_page(
        request,
        patient_id,
        form_class=HemifacialSpasmForm,
        add=diagnoses.hemifacial_spasm_add,
        heading="Record hemifacial spasm",
    )


@login_required
@require_http_methods(["GET", "POST"])
def diagnosis_other_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record another diagnosis, in the clinician's words."""
    return _add_page(
        request,
        patient_id,
        form_class=OtherDiagnosisForm,
        add=diagnoses.diagnosis_other_add,
        heading="Record another diagnosis",
    )


def _preview(request: HttpRequest, review_id: int) -> diagnosis_selectors.ReviewPreview:
    try:
        return diagnosis_selectors.review_preview(context=_context(request), review_id=review_id)
    except DiagnosisNotFound:
        raise Http404("No such classification") from None
    except AccessRefused as error:
        raise error.page_error() from None


@login_required
@require_http_methods(["GET", "POST"])
def diagnosis_add_from_review(request: HttpRequest, review_id: int) -> HttpResponse:
    """Show what a decided classification would put on the problem list, then add it."""
    preview = _preview(request, review_id)
    encounter = preview.review.encounter
    day = encounter.started_at.astimezone(clinic_tz()).date()
    form = FromReviewForm(request.POST if request.method == "POST" else None, encounter_day=day)
    refusal, status = "", 200
    if form.is_bound and form.is_valid():
        try:
            diagnosis = diagnoses.diagnosis_add_from_review(
                context=_context(request), review_id=review_id, **form.cleaned_data
            )
        except DiagnosisNotFound:
            raise Http404("No such classification") from None
        except AccessRefused as error:
            raise error.page_error() from None
        except DiagnosisRefused as problem:
            refusal, status = _placed(problem, form), problem.status
        else:
            messages.success(request, ADDED)
            return redirect("records:diagnosis-detail", diagnosis_id=diagnosis.pk)
    elif form.is_bound:
        status = 400
    page = {
        "preview": preview,
        "patient": encounter.patient,
        "form": form,
        "refusal": refusal,
        "alerts": alerts.active_alerts(encounter.patient),
    }
    return render(request, "records/diagnosis_from_review.html", page, status=status)


def _status_initial(diagnosis: Diagnosis) -> dict[str, Any]:
    return {
        "clinical_status": diagnosis.clinical_status,
        "verification_status": diagnosis.verification_status,
        "resolved_on": diagnosis.resolved_on,
    }


@login_required
@require_http_methods(["GET", "POST"])
def diagnosis_detail(request: HttpRequest, diagnosis_id: int) -> HttpResponse:
    """One diagnosis with its codes, and the form to change its status (none once it was
    entered in error)."""
    context = _context(request)
    try:
        row = diagnosis_selectors.diagnosis_for_clinician(
            context=context, diagnosis_id=diagnosis_id
        )
    except DiagnosisNotFound:
        raise Http404("No such diagnosis") from None
    except AccessRefused as error:
        raise error.page_error() from None
    diagnosis = row.diagnosis
    bound = request.method == "POST"
    form = DiagnosisStatusForm(request.POST if bound else None, initial=_status_initial(diagnosis))
    refusal, status = "", 200
    if bound and form.is_valid():
        try:
            diagnoses.diagnosis_status_change(
                context=context, diagnosis_id=diagnosis.pk, **form.cleaned_data
            )
        except DiagnosisNotFound:
            raise Http404("No such diagnosis") from None
        except AccessRefused as error:
            raise error.page_error() from None
        except DiagnosisRefused as problem:
            refusal, status = _placed(problem, form), problem.status
        else:
            messages.success(request, STATUS_CHANGED)
            return redirect("records:diagnosis-detail", diagnosis_id=diagnosis.pk)
    elif bound:
        status = 400
    page = {
        "row": row,
        "diagnosis": diagnosis,
        "patient": diagnosis.patient,
        "form": None if row.in_error else form,
        "refusal": refusal,
        "alerts": alerts.active_alerts(diagnosis.patient),
    }
    return render(request, "records/diagnosis_detail.html", page, status=status)


@login_required
@require_safe
def patient_timeline(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Every event of the patient's record, newest first, grouped by year, filterable by kind
    of event and dates."""
    patient = _patient(request, patient_id, AuditAction.READ)
    form = TimelineFilterForm(request.GET or None)
    page: dict[str, Any] = {
        "form": form,
        "patient": patient,
        "timeline": None,
        "alerts": alerts.active_alerts(patient),
    }
    if form.is_bound and not form.is_valid():
        return render(request, "records/timeline.html", page, status=400)
    kinds = form.kinds_asked() if form.is_bound else None
    window = form.window() if form.is_bound else timeline.Window()
    try:
        page["timeline"] = timeline.timeline_of_patient(
            context=_context(request), patient=patient, kinds=kinds, window=window
        )
    except AccessRefused as error:
        raise error.page_error() from None
    return render(request, "records/timeline.html", page)
