"""Recall pages for reception and clinicians: the list, one recall (contact attempts, close),
and adding a patient to the list. Patients are answered 404 and administrators 403."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.audit.models import AuditAction, AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import selectors as records_selectors
from clinic.records.access import AccessRefused, DataCategory, access_patient_list, refuse
from clinic.records.models import Patient
from clinic.scheduling import recall_selectors, recalls
from clinic.scheduling.models import Recall, RecallStatus
from clinic.scheduling.recall_forms import (
    RecallCloseForm,
    RecallContactForm,
    RecallFilterForm,
    RecallForm,
)

CONTACT_RECORDED = "Contact attempt recorded."
RECALL_CLOSED = "The recall is closed."
RECALL_ADDED = "{patient} is on the recall list for {service}, due by {due_by}."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def book_query(recall: Recall) -> str:
    """The reception booking search for the recalled patient and service, with the site
    and practitioner the recall names."""
    params = {"service": recall.service.slug, "patient": recall.patient.hospital_number}
    if recall.site is not None:
        params["site"] = recall.site.slug
    if recall.practitioner is not None:
        params["practitioner"] = recall.practitioner.slug
    return urlencode(params)


@login_required
@require_safe
def recall_list(request: HttpRequest) -> HttpResponse:
    """Who is due for what, where and by when, earliest first, with the contact attempts."""
    context = _context(request)
    try:
        # Patients who died or were discharged leave the list before anyone reads it.
        recalls.recalls_close_ineligible(context=context)
    except AccessRefused as error:
        raise error.page_error() from None
    form = RecallFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request, "scheduling/recall_list.html", {"form": form, "page": None}, status=400
        )
    data = form.cleaned_data if form.is_bound else {}
    filters = recall_selectors.RecallFilters(
        site=data.get("site"),
        practitioner=data.get("practitioner"),
        service=data.get("service"),
        due_by=data.get("due_by"),
        status=data.get("status", RecallStatus.OPEN),
    )
    page = recall_selectors.recalls_for_staff(
        context=context, filters=filters, page=data.get("page") or 1
    )
    kept = {k: v for k, v in request.GET.items() if k != "page" and v}
    page_query = {
        "previous": urlencode(kept | {"page": page.number - 1}),
        "next": urlencode(kept | {"page": page.number + 1}),
    }
    rows = [(row, book_query(row.recall)) for row in page.rows]
    return render(
        request,
        "scheduling/recall_list.html",
        {"form": form, "page": page, "rows": rows, "page_query": page_query},
    )


def _detail(
    request: HttpRequest,
    recall_id: int,
    *,
    contact_form: RecallContactForm | None = None,
    close_form: RecallCloseForm | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    try:
        row = recall_selectors.recall_for_staff(context=_context(request), recall_id=recall_id)
    except recalls.RecallNotFound:
        raise Http404("No such recall") from None
    except AccessRefused as error:
        raise error.page_error() from None
    page = {
        "row": row,
        "recall": row.recall,
        "book_query": book_query(row.recall),
        "contact_form": contact_form or RecallContactForm(),
        "close_form": close_form or RecallCloseForm(),
        "refusal": refusal,
    }
    return render(request, "scheduling/recall_detail.html", page, status=status)


@login_required
@require_safe
def recall_detail(request: HttpRequest, recall_id: int) -> HttpResponse:
    """One recall: its contact attempts, and recording another, booking or closing it."""
    return _detail(request, recall_id)


def _refused_here(refusal: recalls.RecallRefused, form: RecallContactForm | RecallCloseForm) -> str:
    """Show a refusal beside its field when the form has it, else at the top of the page."""
    if refusal.field in form.fields:
        form.add_error(refusal.field, refusal.message)
        return ""
    return refusal.message


@login_required
@require_POST
def recall_contact(request: HttpRequest, recall_id: int) -> HttpResponse:
    """Record an attempt to reach the patient."""
    form = RecallContactForm(request.POST)
    if not form.is_valid():
        return _detail(request, recall_id, contact_form=form, status=400)
    try:
        recalls.recall_record_contact(
            context=_context(request),
            recall_id=recall_id,
            method=form.cleaned_data["method"],
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
    except recalls.RecallNotFound:
        raise Http404("No such recall") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except recalls.RecallRefused as refusal:
        message = _refused_here(refusal, form)
        return _detail(request, recall_id, contact_form=form, refusal=message, status=400)
    messages.success(request, CONTACT_RECORDED)
    return redirect("scheduling:recall-detail", recall_id=recall_id)


@login_required
@require_POST
def recall_close(request: HttpRequest, recall_id: int) -> HttpResponse:
    """Close a recall by hand, saying why."""
    form = RecallCloseForm(request.POST)
    if not form.is_valid():
        return _detail(request, recall_id, close_form=form, status=400)
    try:
        recalls.recall_close(
            context=_context(request), recall_id=recall_id, reason=form.cleaned_data["reason"]
        )
    except recalls.RecallNotFound:
        raise Http404("No such recall") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except recalls.RecallRefused as refusal:
        message = _refused_here(refusal, form)
        return _detail(request, recall_id, close_form=form, refusal=message, status=400)
    messages.success(request, RECALL_CLOSED)
    return redirect("scheduling:recalls")


def _staff_patient(request: HttpRequest, patient_id: int) -> Patient:
    """The patient a recall is being added for: reception and clinicians only, refused
    (audited) before anything is shown; the read of the patient's name is audited too."""
    context = _context(request)
    if not access_patient_list(request.user):
        target = Patient.objects.filter(pk=patient_id).first()
        raise refuse(
            context,
            object_type="recall",
            patient=target,
            detail="recall page refused",
            action=AuditAction.CREATE,
        ).page_error()
    try:
        return records_selectors.patient_for_user(
            context=context, patient_id=patient_id, category=DataCategory.APPOINTMENTS
        )
    except records_selectors.PatientNotFound:
        raise Http404("No such patient") from None
    except AccessRefused as error:
        raise error.page_error() from None


@login_required
@require_http_methods(["GET", "POST"])
def recall_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Add a patient to the recall list."""
    patient = _staff_patient(request, patient_id)
    form = RecallForm(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recall = recalls.recall_create(
                context=_context(request),
                patient=patient,
                service=data["service"],
                due_by=data["due_by"],
                site=data["site"],
                practitioner=data["practitioner"],
                reason=data["reason"],
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except recalls.RecallRefused as problem:
            if problem.field in form.fields:
                form.add_error(problem.field, problem.message)
            else:
                refusal = problem.message
        else:
            done = RECALL_ADDED.format(
                patient=patient.full_name,
                service=recall.service.name,
                due_by=f"{recall.due_by.day} {recall.due_by:%B %Y}",
            )
            messages.success(request, done)
            return redirect(reverse("records:patient-detail", args=[patient.pk]))
    page = {"form": form, "patient": patient, "refusal": refusal}
    return render(
        request, "scheduling/recall_form.html", page, status=400 if form.is_bound else 200
    )
