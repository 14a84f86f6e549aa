"""Next-of-kin pages for reception and clinicians: add, change, remove. Each page first asks
contacts.py, which refuses (audited) patients with 404 and administrators with 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import contacts
from clinic.records.access import AccessRefused
from clinic.records.contact_forms import NextOfKinForm
from clinic.records.merged import RecordMerged
from clinic.records.models import NextOfKin, Patient

ADDED = "Next of kin added."
CHANGED = "Next of kin changed."
REMOVED = "Next of kin removed."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _patient(request: HttpRequest, patient_id: int) -> Patient:
    try:
        return contacts.patient_for_next_of_kin(context=_context(request), patient_id=patient_id)
    except AccessRefused as error:
        raise error.page_error() from None


def _next_of_kin(request: HttpRequest, next_of_kin_id: int) -> NextOfKin:
    try:
        return contacts.next_of_kin_for_user(
            context=_context(request), next_of_kin_id=next_of_kin_id
        )
    except AccessRefused as error:
        raise error.page_error() from None


@login_required
@require_http_methods(["GET", "POST"])
def next_of_kin_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Add a next of kin to a patient's record."""
    patient = _patient(request, patient_id)
    form = NextOfKinForm(request.POST if request.method == "POST" else None)
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        try:
            contacts.next_of_kin_add(
                context=_context(request), patient_id=patient.pk, details=form.details()
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except RecordMerged as refusal:
            form.add_error(None, refusal.message)
            status = refusal.status
        else:
            messages.success(request, ADDED)
            return redirect("records:patient-detail", patient_id=patient.pk)
    page = {"form": form, "patient": patient, "kin": None}
    return render(request, "records/next_of_kin_form.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def next_of_kin_edit(request: HttpRequest, next_of_kin_id: int) -> HttpResponse:
    """Change a next of kin's details."""
    kin = _next_of_kin(request, next_of_kin_id)
    patient = kin.patient
    form = NextOfKinForm(request.POST if request.method == "POST" else None, instance=kin)
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        try:
            contacts.next_of_kin_update(
                context=_context(request), next_of_kin_id=kin.pk, details=form.details()
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except RecordMerged as refusal:
            form.add_error(None, refusal.message)
            status = refusal.status
        else:
            messages.success(request, CHANGED)
            return redirect("records:patient-detail", patient_id=patient.pk)
    page = {"form": form, "patient": patient, "kin": kin}
    return render(request, "records/next_of_kin_form.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def next_of_kin_remove(request: HttpRequest, next_of_kin_id: int) -> HttpResponse:
    """Ask, then remove a next of kin."""
    kin = _next_of_kin(request, next_of_kin_id)
    page = {"kin": kin, "patient": kin.patient, "refusal": ""}
    if request.method == "POST":
        try:
            patient = contacts.next_of_kin_remove(context=_context(request), next_of_kin_id=kin.pk)
        except AccessRefused as error:
            raise error.page_error() from None
        except RecordMerged as refusal:
            page["refusal"] = refusal.message
            return render(request, "records/next_of_kin_remove.html", page, status=refusal.status)
        messages.success(request, REMOVED)
        return redirect("records:patient-detail", patient_id=patient.pk)
    return render(request, "records/next_of_kin_remove.html", page)
