"""Allergy and alert pages for staff: record one, end one. alerts.py decides who may (and
audits every refusal): clinicians any kind, reception the practical ones, patients 404,
administrators 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import alerts
from clinic.records.access import AccessRefused
from clinic.records.alert_forms import AlertForm
from clinic.records.merged import RecordMerged
from clinic.records.models import PatientAlert

ADDED = "Alert recorded: {alert}."
ENDED = "Alert ended: {alert}."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


@login_required
@require_http_methods(["GET", "POST"])
def alert_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record an allergy or alert for a patient."""
    context = _context(request)
    try:
        patient = alerts.patient_for_alerts(context=context, patient_id=patient_id)
    except AccessRefused as error:
        raise error.page_error() from None
    kinds = alerts.kinds_for(request.user, patient)
    form = AlertForm(request.POST if request.method == "POST" else None, kinds=kinds)
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        try:
            alert = alerts.alert_add(
                context=context,
                patient_id=patient.pk,
                kind=form.cleaned_data["kind"],
                detail=form.cleaned_data["detail"],
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except alerts.AlertRefused as problem:
            form.add_error(problem.field or None, problem.message)
        except RecordMerged as refusal:
            form.add_error(None, refusal.message)
            status = refusal.status
        else:
            messages.success(request, ADDED.format(alert=alert))
            return redirect("records:patient-detail", patient_id=patient.pk)
    page = {"form": form, "patient": patient}
    return render(request, "records/alert_form.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def alert_end(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Ask, then end an active alert (it is kept, with who ended it)."""
    context = _context(request)
    try:
        alert: PatientAlert = alerts.alert_for_user(context=context, alert_id=alert_id)
    except AccessRefused as error:
        raise error.page_error() from None
    refusal = ""
    if request.method == "POST":
        try:
            alerts.alert_end(context=context, alert_id=alert.pk)
        except AccessRefused as error:
            raise error.page_error() from None
        except (alerts.AlertRefused, RecordMerged) as problem:
            refusal = problem.message
            alert.refresh_from_db()
        else:
            messages.success(request, ENDED.format(alert=alert))
            return redirect("records:patient-detail", patient_id=alert.patient_id)
    page = {"alert": alert, "patient": alert.patient, "refusal": refusal}
    return render(request, "records/alert_end.html", page, status=409 if refusal else 200)
