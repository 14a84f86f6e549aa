"""Medication pages: prescribe a medicine, its page (dose steps, current dose), change it,
stop it, add and remove a dose step."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.audit.models import AuditAction
from clinic.records.access import AccessRefused
from clinic.treatment import medication as rules
from clinic.treatment.medication_forms import MedicationForm, MedicationStopForm, TitrationStepForm
from clinic.treatment.models import Medication, TitrationStep
from clinic.treatment.rules import TreatmentRefused
from clinic.treatment.views import (
    banners,
    context_of,
    encounters_of,
    found_or_error,
    patient_of,
    render_form,
    save_or_show,
)

ADDED = "Medicine prescribed."
CHANGED = "Medicine changed."
STOPPED = "Medicine recorded as stopped."
STEP_ADDED = "Dose step added."
STEP_REMOVED = "Dose step removed."


def _medication_url(medication_id: int) -> str:
    return reverse("treatment:medication", args=[medication_id])


def _medication(request: HttpRequest, medication_id: int) -> Medication:
    return found_or_error(
        lambda: rules.medication_for_clinician(
            context=context_of(request), medication_id=medication_id
        ),
        rules.MedicationNotFound,
    )


@login_required
@require_http_methods(["GET", "POST"])
def medication_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Prescribe a medicine, with its first dose."""
    patient = patient_of(request, patient_id, action=AuditAction.CREATE, object_type="medication")
    form = MedicationForm(
        request.POST if request.method == "POST" else None,
        encounters=encounters_of(patient),
        with_dose=True,
    )

    def save() -> object:
        return rules.medication_add(
            context=context_of(request),
            patient_id=patient.pk,
            details=form.details(),
            first_dose=form.first_dose(),
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Prescribe a medicine",
            submit="Prescribe",
            back=reverse("treatment:patient", args=[patient.pk]) + "#medication",
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=ADDED,
        then=lambda saved: _medication_url(getattr(saved, "pk", 0)),
        show=show,
    )


@login_required
@require_safe
def medication_detail(request: HttpRequest, medication_id: int) -> HttpResponse:
    """A medicine: its details, its dose steps and the dose taken today."""
    medication = _medication(request, medication_id)
    steps = rules.steps_of(medication)
    page = {
        "patient": medication.patient,
        "medication": medication,
        "steps": steps,
        "current": rules.current_step(steps),
        **banners(medication.patient),
    }
    return render(request, "treatment/medication_detail.html", page)


@login_required
@require_http_methods(["GET", "POST"])
def medication_edit(request: HttpRequest, medication_id: int) -> HttpResponse:
    """Change a medicine's details."""
    medication = _medication(request, medication_id)
    patient = medication.patient
    encounters = encounters_of(patient)
    form = (
        MedicationForm(request.POST, encounters=encounters)
        if request.method == "POST"
        else MedicationForm.for_medication(medication, encounters=encounters)
    )

    def save() -> object:
        return rules.medication_update(
            context=context_of(request), medication_id=medication.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Change a medicine",
            submit="Save changes",
            back=_medication_url(medication.pk),
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=CHANGED,
        then=lambda _s: _medication_url(medication.pk),
        show=show,
        not_found=(rules.MedicationNotFound,),
    )


@login_required
@require_http_methods(["GET", "POST"])
def medication_stop(request: HttpRequest, medication_id: int) -> HttpResponse:
    """Record the day a medicine was stopped, and why."""
    medication = _medication(request, medication_id)
    form = MedicationStopForm(request.POST if request.method == "POST" else None)

    def save() -> object:
        data = form.cleaned_data
        return rules.medication_stop(
            context=context_of(request),
            medication_id=medication.pk,
            stopped_on=data["stopped_on"],
            stop_reason=data["stop_reason"],
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            medication.patient,
            title="Stop a medicine",
            submit="Record as stopped",
            back=_medication_url(medication.pk),
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=STOPPED,
        then=lambda _s: _medication_url(medication.pk),
        show=show,
        not_found=(rules.MedicationNotFound,),
    )


@login_required
@require_http_methods(["GET", "POST"])
def step_add(request: HttpRequest, medication_id: int) -> HttpResponse:
    """Add a dose step."""
    medication = _medication(request, medication_id)
    form = TitrationStepForm(request.POST if request.method == "POST" else None)

    def save() -> object:
        return rules.titration_step_add(
            context=context_of(request), medication_id=medication.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            medication.patient,
            title="Add a dose step",
            submit="Add the step",
            back=_medication_url(medication.pk),
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=STEP_ADDED,
        then=lambda _s: _medication_url(medication.pk),
        show=show,
        not_found=(rules.MedicationNotFound,),
    )


@login_required
@require_POST
def step_remove(request: HttpRequest, step_id: int) -> HttpResponse:
    """Remove a dose step entered in error (the button is on the medicine's page)."""
    try:
        medication = rules.titration_step_remove(context=context_of(request), step_id=step_id)
    except rules.MedicationNotFound:
        raise Http404("No such dose step") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except TreatmentRefused as problem:  # a merged record, or busy: back to the medicine
        messages.error(request, problem.message)
        medication_id = (
            TitrationStep.objects.filter(pk=step_id).values_list("medication_id", flat=True).first()
        )
        return HttpResponseRedirect(_medication_url(medication_id or 0))
    messages.success(request, STEP_REMOVED)
    return HttpResponseRedirect(_medication_url(medication.pk))
