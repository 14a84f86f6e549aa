"""History pages for clinicians: an encounter's history, and the patient's family and drug
history (add, change, stop, remove). The services and selectors refuse (and audit) everyone
else: reception and administrators 403 on a patient's pages and 404 for an id, patients 404.
A refused save shows the page again with the writer's entries kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from clinic.audit.models import AuditAction, AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import alerts, drug_history, encounter_selectors, family, history
from clinic.records import selectors as records_selectors
from clinic.records.access import AccessRefused, DataCategory
from clinic.records.encounters import EncounterNotFound
from clinic.records.history import HistoryRefused
from clinic.records.history_forms import DrugForm, DrugStopForm, HistoryForm, RelativeForm
from clinic.records.models import DrugExposure, Encounter, FamilyMember, Patient

HISTORY_SAVED = "History saved. It is locked with the encounter when you sign."
RELATIVE_ADDED = "Relative added to the family history."
RELATIVE_CHANGED = "Relative changed."
RELATIVE_REMOVED = "Relative removed from the family history."
DRUG_ADDED = "Medicine added to the drug history."
DRUG_CHANGED = "Medicine changed."
DRUG_STOPPED = "Medicine recorded as stopped."
DRUG_REMOVED = "Medicine removed from the drug history."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _placed(refusal: HistoryRefused, form: forms.Form) -> str:
    """Put a refusal beside its field when the form has it; else return it for the top."""
    if refusal.field in form.fields:
        form.add_error(refusal.field, refusal.message)
        return ""
    return refusal.message


def _status(form: forms.Form) -> int:
    return 400 if form.is_bound else 200


# An encounter's history


def _encounter(request: HttpRequest, encounter_id: int) -> Encounter:
    try:
        return encounter_selectors.encounter_for_clinician(
            context=_context(request), encounter_id=encounter_id
        )
    except EncounterNotFound:
        raise Http404("No such encounter") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _history_page(
    request: HttpRequest,
    encounter_id: int,
    *,
    form: HistoryForm | None = None,
    refusal: HistoryRefused | None = None,
    status: int = 200,
) -> HttpResponse:
    encounter = _encounter(request, encounter_id)
    section = history.history_section(context=_context(request), encounter=encounter)
    if section is None:  # not a clinician: the encounter read above has refused already
        raise Http404("No such encounter")
    saved = section.history
    conflict = refusal is not None and refusal.message == history.HISTORY_STALE
    message = ""
    if form is None:
        form = HistoryForm.for_history(saved)
    elif conflict:
        # Both in view: the saved history above, the writer's entries in the form, which
        # now carries the saved version, so saving again is a choice.
        data = form.data.copy() if isinstance(form.data, QueryDict) else dict(form.data)
        data["updated_at"] = saved.updated_at.isoformat() if saved else ""
        form = HistoryForm(data)
        form.is_valid()
        message = history.HISTORY_STALE
    elif refusal is not None:
        message = _placed(refusal, form)
    age = history.completed_years(encounter.patient.date_of_birth, history.encounter_day(encounter))
    form.fields[
        "age_at_onset_years"
    ].help_text = (
        f"In completed years, from 0 to {age}: the patient's age on the day of this encounter."
    )
    page = {
        "encounter": encounter,
        "history_section": section,
        "form": form,
        "refusal": message,
        "conflict": conflict,
        "alerts": alerts.active_alerts(encounter.patient),
    }
    return render(request, "records/history_form.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def encounter_history(request: HttpRequest, encounter_id: int) -> HttpResponse:
    """An encounter's history: its clinician edits it while a draft; anyone else (and
    everyone once signed) reads it."""
    if request.method == "GET":
        return _history_page(request, encounter_id)
    form = HistoryForm(request.POST)
    if not form.is_valid():
        return _history_page(request, encounter_id, form=form, status=400)
    try:
        history.history_save(
            context=_context(request),
            encounter_id=encounter_id,
            details=form.details(),
            expected_updated_at=form.cleaned_data["updated_at"],
        )
    except EncounterNotFound:
        raise Http404("No such encounter") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except HistoryRefused as refusal:
        return _history_page(
            request, encounter_id, form=form, refusal=refusal, status=refusal.status
        )
    messages.success(request, HISTORY_SAVED)
    return redirect(reverse("records:encounter-detail", args=[encounter_id]) + "#history")


# The family history


def _patient(
    request: HttpRequest,
    patient_id: int,
    check: Callable[..., Patient],
) -> Patient:
    """The patient, for a clinician (an audited read of their record), or the page's error."""
    context = _context(request)
    try:
        check(context=context, patient_id=patient_id, action=AuditAction.CREATE)
        return records_selectors.patient_for_user(
            context=context, patient_id=patient_id, category=DataCategory.CLINICAL
        )
    except records_selectors.PatientNotFound:
        raise Http404("No such patient") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _relative(request: HttpRequest, relative_id: int) -> FamilyMember:
    try:
        return family.relative_for_clinician(context=_context(request), relative_id=relative_id)
    except family.RelativeNotFound:
        raise Http404("No such relative") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _relative_page(
    request: HttpRequest,
    patient: Patient,
    form: RelativeForm | None,
    *,
    relative: FamilyMember | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    page = {
        "patient": patient,
        "relative": relative,
        "form": form,
        "refusal": refusal,
        "alerts": alerts.active_alerts(patient),
    }
    return render(request, "records/relative_form.html", page, status=status)


def _save_or_show(
    request: HttpRequest,
    patient: Patient,
    form: Any,
    *,
    save: Callable[[], object],
    done: str,
    show: Callable[..., HttpResponse],
) -> HttpResponse:
    """Call ``save`` with a valid bound form, then back to the patient page; else show the
    form again (400 for bad input, the refusal's status for a refusal)."""
    refusal, status = "", _status(form)
    if form.is_bound and form.is_valid():
        try:
            save()
        except AccessRefused as error:
            raise error.page_error() from None
        except (family.RelativeNotFound, drug_history.DrugNotFound):
            raise Http404("No such entry") from None
        except HistoryRefused as problem:
            refusal, status = _placed(problem, form), problem.status
        else:
            messages.success(request, done)
            return redirect("records:patient-detail", patient_id=patient.pk)
    return show(form=form, refusal=refusal, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def relative_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Add a relative to the patient's family history."""
    patient = _patient(request, patient_id, family.patient_for_family)
    form = RelativeForm(request.POST if request.method == "POST" else None)

    def save() -> object:
        return family.relative_add(
            context=_context(request), patient_id=patient.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return _relative_page(request, patient, **page)

    return _save_or_show(request, patient, form, save=save, done=RELATIVE_ADDED, show=show)


@login_required
@require_http_methods(["GET", "POST"])
def relative_edit(request: HttpRequest, relative_id: int) -> HttpResponse:
    """Change a relative."""
    relative = _relative(request, relative_id)
    patient = relative.patient
    form = (
        RelativeForm(request.POST)
        if request.method == "POST"
        else RelativeForm.for_relative(relative)
    )

    def save() -> object:
        return family.relative_update(
            context=_context(request), relative_id=relative.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return _relative_page(request, patient, relative=relative, **page)

    return _save_or_show(request, patient, form, save=save, done=RELATIVE_CHANGED, show=show)


@login_required
@require_http_methods(["GET", "POST"])
def relative_remove(request: HttpRequest, relative_id: int) -> HttpResponse:
    """Ask, then remove a relative."""
    relative = _relative(request, relative_id)
    if request.method == "POST":
        try:
            patient = family.relative_remove(context=_context(request), relative_id=relative.pk)
        except family.RelativeNotFound:
            raise Http404("No such relative") from None
        except AccessRefused as error:
            raise error.page_error() from None
        except HistoryRefused as problem:
            return _relative_page(
                request,
                relative.patient,
                None,
                relative=relative,
                refusal=problem.message,
                status=problem.status,
            )
        messages.success(request, RELATIVE_REMOVED)
        return redirect("records:patient-detail", patient_id=patient.pk)
    return _relative_page(request, relative.patient, None, relative=relative)


# The drug history


def _drug(request: HttpRequest, drug_id: int) -> DrugExposure:
    try:
        return drug_history.drug_for_clinician(context=_context(request), drug_id=drug_id)
    except drug_history.DrugNotFound:
        raise Http404("No such medicine") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _drug_page(
    request: HttpRequest,
    patient: Patient,
    form: DrugForm | DrugStopForm | None,
    *,
    drug: DrugExposure | None = None,
    mode: str,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    page = {
        "patient": patient,
        "drug": drug,
        "form": form,
        "mode": mode,
        "refusal": refusal,
        "alerts": alerts.active_alerts(patient),
    }
    return render(request, "records/drug_form.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def drug_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Add a medicine to the patient's drug history."""
    patient = _patient(request, patient_id, drug_history.patient_for_drugs)
    form = DrugForm(request.POST if request.method == "POST" else None)

    def save() -> object:
        return drug_history.drug_add(
            context=_context(request), patient_id=patient.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return _drug_page(request, patient, mode="add", **page)

    return _save_or_show(request, patient, form, save=save, done=DRUG_ADDED, show=show)


@login_required
@require_http_methods(["GET", "POST"])
def drug_edit(request: HttpRequest, drug_id: int) -> HttpResponse:
    """Change a medicine of the drug history."""
    drug = _drug(request, drug_id)
    form = DrugForm(request.POST) if request.method == "POST" else DrugForm.for_drug(drug)

    def save() -> object:
        return drug_history.drug_update(
            context=_context(request), drug_id=drug.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return _drug_page(request, drug.patient, drug=drug, mode="edit", **page)

    return _save_or_show(request, drug.patient, form, save=save, done=DRUG_CHANGED, show=show)


@login_required
@require_http_methods(["GET", "POST"])
def drug_stop(request: HttpRequest, drug_id: int) -> HttpResponse:
    """Record the day a medicine was stopped."""
    drug = _drug(request, drug_id)
    form = DrugStopForm(request.POST if request.method == "POST" else None)

    def save() -> object:
        return drug_history.drug_stop(
            context=_context(request), drug_id=drug.pk, stopped_on=form.cleaned_data["stopped_on"]
        )

    def show(**page: Any) -> HttpResponse:
        return _drug_page(request, drug.patient, drug=drug, mode="stop", **page)

    return _save_or_show(request, drug.patient, form, save=save, done=DRUG_STOPPED, show=show)


@login_required
@require_http_methods(["GET", "POST"])
def drug_remove(request: HttpRequest, drug_id: int) -> HttpResponse:
    """Ask, then remove a medicine recorded in error."""
    drug = _drug(request, drug_id)
    if request.method == "POST":
        try:
            patient = drug_history.drug_remove(context=_context(request), drug_id=drug.pk)
        except drug_history.DrugNotFound:
            raise Http404("No such medicine") from None
        except AccessRefused as error:
            raise error.page_error() from None
        except HistoryRefused as problem:
            return _drug_page(
                request,
                drug.patient,
                None,
                drug=drug,
                mode="remove",
                refusal=problem.message,
                status=problem.status,
            )
        messages.success(request, DRUG_REMOVED)
        return redirect("records:patient-detail", patient_id=patient.pk)
    return _drug_page(request, drug.patient, None, drug=drug, mode="remove")
