"""Patient record pages: the patient's own home page, and the staff patient list and record."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.forms import AccessibleFormMixin
from clinic.records import selectors, services
from clinic.records.access import AccessRefused, access_create_patient, refusal_reveals
from clinic.records.forms import PatientForm

SEARCH_TOO_LONG = f"Search words can be at most {selectors.SEARCH_MAX_LENGTH} characters."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _refused(error: AccessRefused) -> Exception:
    return PermissionDenied() if error.reveal else Http404()


class PatientSearchForm(AccessibleFormMixin, django_forms.Form):
    """Search by name, hospital number or NHS number."""

    q = django_forms.CharField(
        label="Name, hospital number or NHS number",
        required=False,
        max_length=selectors.SEARCH_MAX_LENGTH,
        error_messages={"max_length": SEARCH_TOO_LONG},
    )


@login_required
@require_safe
def my_record(request: HttpRequest) -> HttpResponse:
    """The signed-in patient's home page: their record as the unit holds it."""
    try:
        patient = selectors.patient_own_record(context=_context(request))
    except AccessRefused as error:
        raise _refused(error) from None
    return render(request, "records/my_record.html", {"patient": patient})


@login_required
@require_safe
def patient_list(request: HttpRequest) -> HttpResponse:
    """Find a patient (reception and clinicians)."""
    form = PatientSearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    if form.is_bound and not form.is_valid():
        return render(
            request, "records/patient_list.html", {"form": form, "patients": None}, status=400
        )
    try:
        patients = selectors.patients_for_user(context=_context(request), search=search)
    except AccessRefused as error:
        raise _refused(error) from None
    return render(request, "records/patient_list.html", {"form": form, "patients": patients})


@login_required
@require_safe
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    """One patient's demographics."""
    try:
        patient = selectors.patient_for_user(context=_context(request), patient_id=patient_id)
    except selectors.PatientNotFound:
        raise Http404("No such patient") from None
    except AccessRefused as error:
        raise _refused(error) from None
    return render(request, "records/patient_detail.html", {"patient": patient})


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    """Register a patient (reception and clinicians)."""
    form = PatientForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(context=_context(request), details=form.details())
        except AccessRefused as error:
            raise _refused(error) from None
        except services.PatientConflict as conflict:
            form.add_error(
                conflict.field if conflict.field in form.fields else None, conflict.message
            )
        else:
            return redirect("records:patient-detail", patient_id=patient.pk)
    elif not access_create_patient(request.user):
        raise _refused(AccessRefused(reveal=refusal_reveals(request.user)))
    status = 400 if form.is_bound else 200
    return render(
        request, "records/patient_form.html", {"form": form, "patient": None}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Change a patient's demographics."""
    context = _context(request)
    try:
        patient = selectors.patient_for_user(context=context, patient_id=patient_id)
    except selectors.PatientNotFound:
        raise Http404("No such patient") from None
    except AccessRefused as error:
        raise _refused(error) from None
    form = PatientForm(request.POST if request.method == "POST" else None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(context=context, patient_id=patient.pk, details=form.details())
        except AccessRefused as error:
            raise _refused(error) from None
        except services.PatientConflict as conflict:
            form.add_error(
                conflict.field if conflict.field in form.fields else None, conflict.message
            )
        else:
            return redirect("records:patient-detail", patient_id=patient.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "records/patient_form.html", {"form": form, "patient": patient}, status=status
    )
