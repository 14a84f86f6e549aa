"""The administrators' audit search and CSV export, and a patient's own access log."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from clinic.audit.models import AuditAction, AuditChannel, AuditEntry, AuditOutcome
from clinic.audit.selectors import (
    EXPORT_ROW_LIMIT,
    AuditFilters,
    access_log_for_patient,
    audit_entries_for_admin,
)
from clinic.audit.services import AuditContext, audit_record
from clinic.forms import AccessibleFormMixin
from clinic.records import selectors as record_selectors
from clinic.records.access import AccessRefused

PAGE_SIZE = 50
CSV_COLUMNS = (
    "at", "actor_email", "actor_role", "ip_address", "hospital_number", "object_type",
    "object_id", "action", "outcome", "channel", "path", "detail",
)  # fmt: skip


EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_OUT_OF_RANGE = "Enter a date between 2000 and 2999."


class AuditSearchForm(AccessibleFormMixin, forms.Form):
    """Narrow the audit trail."""

    actor_email = forms.CharField(label="Who (email contains)", required=False, max_length=254)
    hospital_number = forms.CharField(
        label="Patient hospital number", required=False, max_length=20
    )
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Any"), *AuditOutcome.choices]
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *AuditAction.choices]
    )
    date_from = forms.DateField(
        label="From (date)", required=False, input_formats=["%d/%m/%Y", "%Y-%m-%d"]
    )
    date_to = forms.DateField(
        label="To (date)", required=False, input_formats=["%d/%m/%Y", "%Y-%m-%d"]
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
                self.add_error(name, DATE_OUT_OF_RANGE)
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            actor_email=data["actor_email"].strip(),
            hospital_number=data["hospital_number"].strip(),
            outcome=data["outcome"],
            action=data["action"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


def _entries(request: HttpRequest, form: AuditSearchForm) -> QuerySet[AuditEntry]:
    """The entries an administrator asked for; anyone else is refused, and that is audited."""
    try:
        entries = audit_entries_for_admin(user=request.user, filters=AuditFilters())
    except AccessRefused as error:
        audit_record(
            context=AuditContext.from_request(request, channel=AuditChannel.WEB),
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type="audit_log",
            detail="audit trail refused",
        )
        raise (PermissionDenied() if error.reveal else Http404()) from None
    if form.is_bound and form.is_valid():
        return audit_entries_for_admin(user=request.user, filters=form.filters())
    return entries


@login_required
@require_safe
def audit_search(request: HttpRequest) -> HttpResponse:
    """Search the audit trail (administrators)."""
    form = AuditSearchForm(request.GET or None)
    entries = _entries(request, form)
    if form.is_bound and not form.is_valid():
        return render(request, "audit/search.html", {"form": form, "page": None}, status=400)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "audit/search.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(entries: Iterator[AuditEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for e in entries:
        hospital_number = e.patient.hospital_number if e.patient else ""
        row = [e.at.isoformat(), e.actor_email, e.actor_role, e.ip_address or "", hospital_number]
        row += [e.object_type, e.object_id, e.action, e.outcome, e.channel, e.path, e.detail]
        yield writer.writerow([_safe_cell(str(cell)) for cell in row])


def _safe_cell(value: str) -> str:
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    return f"'{value}" if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


@login_required
@require_safe
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered audit trail as CSV (administrators)."""
    form = AuditSearchForm(request.GET or None)
    entries = _entries(request, form)[:EXPORT_ROW_LIMIT]
    if form.is_bound and not form.is_valid():
        return HttpResponse("Invalid filters: correct them on the audit page.", status=400)
    audit_record(
        context=AuditContext.from_request(request, channel=AuditChannel.WEB),
        action=AuditAction.EXPORT,
        outcome=AuditOutcome.ALLOWED,
        object_type="audit_log",
        detail=f"CSV export: {request.GET.urlencode()}",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(_csv_rows(entries.iterator()), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


@login_required
@require_safe
def my_access_log(request: HttpRequest) -> HttpResponse:
    """Who has looked at or changed the signed-in patient's record."""
    context = AuditContext.from_request(request, channel=AuditChannel.WEB)
    try:
        patient = record_selectors.patient_own_record(context=context)
    except AccessRefused:
        raise Http404 from None
    if patient is None:
        raise Http404("No record")
    page = Paginator(access_log_for_patient(patient=patient), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "audit/my_access_log.html", {"page": page, "patient": patient})
