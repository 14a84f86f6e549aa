"""Patient record pages: the patient's own home page, and the staff patient list and record."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from clinic.audit.models import AuditAction, AuditChannel, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from clinic.enquiries import selectors as enquiry_selectors
from clinic.enquiries.models import EnquiryKind
from clinic.forms import AccessibleFormMixin
from clinic.records import (
    alerts,
    contacts,
    diagnosis_selectors,
    encounter_selectors,
    investigation_selectors,
    selectors,
    services,
)
from clinic.records.access import AccessRefused, access_patient_list, refusal_reveals
from clinic.records.drug_history import drug_section
from clinic.records.duplicates import DuplicateCandidate
from clinic.records.family import family_section
from clinic.records.forms import PatientCreateForm, PatientForm
from clinic.records.letter_selectors import letters_section, my_letters
from clinic.records.merged import RecordMerged
from clinic.records.models import Patient
from clinic.scheduling import follow_up, recall_selectors
from clinic.scheduling import selectors as appointment_selectors

SEARCH_TOO_LONG = f"Search words can be at most {selectors.SEARCH_MAX_LENGTH} characters."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


class PatientSearchForm(AccessibleFormMixin, django_forms.Form):
    """Search by name, hospital number or NHS number; clinicians also by diagnosis and form
    of dystonia (``clinical``: for anyone else those fields do not exist)."""

    q = django_forms.CharField(
        label="Name, hospital number or NHS number",
        required=False,
        max_length=selectors.SEARCH_MAX_LENGTH,
        error_messages={"max_length": SEARCH_TOO_LONG},
    )
    diagnosis = django_forms.CharField(
        label="Diagnosis",
        required=False,
        max_length=selectors.SEARCH_MAX_LENGTH,
        help_text="Words of the diagnosis or a code, for example cervical or G24.3.",
        error_messages={"max_length": SEARCH_TOO_LONG},
    )
    dystonia_form = django_forms.ChoiceField(
        label="Form of dystonia",
        required=False,
        choices=[("", "Any form"), *selectors.FORM_CHOICES],
        error_messages={"invalid_choice": selectors.UNKNOWN_FORM},
    )

    def __init__(self, *args: Any, clinical: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not clinical:
            del self.fields["diagnosis"]
            del self.fields["dystonia_form"]


@login_required
@require_safe
def my_record(request: HttpRequest) -> HttpResponse:
    """The signed-in patient's home page: their record as the unit holds it."""
    context = _context(request)
    try:
        patient = selectors.patient_own_record(context=context)
    except AccessRefused as error:
        raise error.page_error() from None
    enquiries = enquiry_selectors.enquiries_sent_by(context=context)
    page = {
        "patient": patient,
        "queries": [e for e in enquiries if e.kind == EnquiryKind.QUERY],
        "second_opinions": [e for e in enquiries if e.kind == EnquiryKind.SECOND_OPINION],
        "documents": enquiry_selectors.documents_sent_by(user=request.user),  # type: ignore[arg-type]
        "appointments": appointment_selectors.appointments_of_patient(
            context=context, patient=patient
        )
        if patient
        else None,
        "follow_ups": follow_up.follow_ups_of_patient(
            context=context, patient=patient, open_only=True
        )
        if patient
        else [],
        # Read-only for the patient, under the audited read of their record above.
        "alerts": alerts.active_alerts(patient) if patient else None,
        "next_of_kin": contacts.next_of_kin_of_patient(patient=patient) if patient else [],
        "letters": my_letters(context=context, patient=patient) if patient else [],
    }
    return render(request, "records/my_record.html", page)


def _staff_only(
    request: HttpRequest,
    context: AuditContext,
    *,
    action: AuditAction,
    object_id: int | None = None,
) -> None:
    """The /records/ pages are for reception and clinicians; anyone else is refused here,
    before any input is read, with an audit entry (patients see their own record at /my/)."""
    if access_patient_list(request.user):
        return
    # The targeted record, if there is one, so the attempt shows in that patient's log.
    target = Patient.objects.filter(pk=object_id).first() if object_id else None
    audit_record(
        context=context,
        action=action,
        outcome=AuditOutcome.REFUSED,
        object_type="patient",
        object_id=object_id or "",
        patient=target,
        detail="staff page refused",
    )
    raise AccessRefused(reveal=refusal_reveals(request.user)).page_error()


@login_required
@require_safe
def patient_list(request: HttpRequest) -> HttpResponse:
    """Find a patient (reception and clinicians)."""
    context = _context(request)
    _staff_only(request, context, action=AuditAction.READ)
    clinical = selectors.may_search_clinically(request.user)
    form = PatientSearchForm(request.GET or None, clinical=clinical)
    if form.is_bound and not form.is_valid():
        return render(
            request, "records/patient_list.html", {"form": form, "patients": None}, status=400
        )
    data = form.cleaned_data if form.is_bound else {}
    # Anyone else sending a diagnosis or form is refused by the selector (403, audited).
    asked = data if clinical else request.GET
    try:
        patients = selectors.patients_for_user(
            context=context,
            search=data.get("q", ""),
            diagnosis=asked.get("diagnosis", ""),
            form=asked.get("dystonia_form", ""),
        )
    except AccessRefused as error:
        raise error.page_error() from None
    return render(request, "records/patient_list.html", {"form": form, "patients": patients})


@login_required
@require_safe
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    """One patient's demographics (reception and clinicians)."""
    context = _context(request)
    _staff_only(request, context, action=AuditAction.READ, object_id=patient_id)
    try:
        patient = selectors.patient_for_user(context=context, patient_id=patient_id)
    except selectors.PatientNotFound:
        raise Http404("No such patient") from None
    except AccessRefused as error:
        raise error.page_error() from None
    if patient.is_merged:  # kept for the audit trail only: a link to the record kept (merge.py)
        return render(request, "records/merge_merged_record.html", {"patient": patient})
    alert_history = alerts.alert_history(patient)
    page = {
        "patient": patient,
        "recalls": recall_selectors.recalls_of_patient(context=context, patient=patient),
        "follow_ups": follow_up.follow_ups_of_patient(context=context, patient=patient),
        # Shown under the patient read audited above: the banner, and the lists with actions.
        "alerts": alert_history,
        "alert_permissions": alerts.permissions(request.user, patient, alert_history),
        "next_of_kin": contacts.next_of_kin_of_patient(patient=patient),
        # Clinicians only; None hides the section (reception never see clinical notes).
        "encounters": encounter_selectors.encounters_section(context=context, patient=patient),
        # Clinicians only, as the encounters; None hides the family and drug history.
        "family_history": family_section(context=context, patient=patient),
        "drug_history": drug_section(context=context, patient=patient),
        "letters": letters_section(context=context, patient=patient),  # clinicians; else None
        # Clinicians only, as the encounters; None hides the problem list.
        "problem_list": diagnosis_selectors.problem_list_section(context=context, patient=patient),
        # Clinicians only: the work-up advice and investigations; None hides them.
        "investigations": investigation_selectors.investigations_section(
            context=context, patient=patient
        ),
    }
    return render(request, "records/patient_detail.html", page)


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    """Register a patient (reception and clinicians)."""
    context = _context(request)
    _staff_only(request, context, action=AuditAction.CREATE)
    form = PatientCreateForm(request.POST if request.method == "POST" else None)
    candidates: list[DuplicateCandidate] = []
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(
                context=context, details=form.details(), confirm_not_duplicate=form.confirmed()
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except services.PatientConflict as conflict:
            form.add_error(
                conflict.field if conflict.field in form.fields else None, conflict.message
            )
        except services.PossibleDuplicates as found:
            candidates = found.candidates
            form = form.asking_to_confirm()
        else:
            return redirect("records:patient-detail", patient_id=patient.pk)
    # Look-alikes found: the request conflicts with existing records until confirmed.
    status = (409 if candidates else 400) if form.is_bound else 200
    page = {"form": form, "patient": None, "candidates": candidates}
    return render(request, "records/patient_form.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Change a patient's demographics (reception and clinicians). Showing the form is a read;
    saving is one audited update (or refusal)."""
    context = _context(request)
    _staff_only(request, context, action=AuditAction.UPDATE, object_id=patient_id)
    if request.method == "GET":
        try:
            patient = selectors.patient_for_user(context=context, patient_id=patient_id)
        except selectors.PatientNotFound:
            raise Http404("No such patient") from None
        except AccessRefused as error:
            raise error.page_error() from None
        form = PatientForm(instance=patient)
        return render(request, "records/patient_form.html", {"form": form, "patient": patient})
    patient = get_object_or_404(Patient, pk=patient_id)
    form = PatientForm(request.POST, instance=patient)
    status = 400
    if form.is_valid():
        try:
            services.patient_update(context=context, patient_id=patient_id, details=form.details())
        except AccessRefused as error:
            raise error.page_error() from None
        except services.PatientConflict as conflict:
            form.add_error(
                conflict.field if conflict.field in form.fields else None, conflict.message
            )
        except RecordMerged as refusal:
            form.add_error(None, refusal.message)
            status = refusal.status
        else:
            return redirect("records:patient-detail", patient_id=patient_id)
    return render(
        request, "records/patient_form.html", {"form": form, "patient": patient}, status=status
    )
