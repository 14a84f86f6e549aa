"""Surgery pages: record a procedure, its page, change it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from clinic.audit.models import AuditAction
from clinic.treatment import surgery
from clinic.treatment.models import Procedure
from clinic.treatment.therapy_forms import ProcedureForm
from clinic.treatment.views import (
    banners,
    context_of,
    encounters_of,
    found_or_error,
    patient_of,
    render_form,
    save_or_show,
)

ADDED = "Procedure recorded."
CHANGED = "Procedure changed."


def _procedure_url(procedure_id: int) -> str:
    return reverse("treatment:procedure", args=[procedure_id])


def _procedure(request: HttpRequest, procedure_id: int) -> Procedure:
    return found_or_error(
        lambda: surgery.procedure_for_clinician(
            context=context_of(request), procedure_id=procedure_id
        ),
        surgery.ProcedureNotFound,
    )


@login_required
@require_http_methods(["GET", "POST"])
def procedure_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record a procedure."""
    patient = patient_of(request, patient_id, action=AuditAction.CREATE, object_type="procedure")
    form = ProcedureForm(
        request.POST if request.method == "POST" else None, encounters=encounters_of(patient)
    )

    def save() -> object:
        return surgery.procedure_add(
            context=context_of(request), patient_id=patient.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Record a procedure",
            submit="Record the procedure",
            back=reverse("treatment:patient", args=[patient.pk]) + "#surgery",
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=ADDED,
        then=lambda saved: _procedure_url(getattr(saved, "pk", 0)),
        show=show,
    )


@login_required
@require_safe
def procedure_detail(request: HttpRequest, procedure_id: int) -> HttpResponse:
    """A procedure."""
    procedure = _procedure(request, procedure_id)
    page = {"patient": procedure.patient, "procedure": procedure, **banners(procedure.patient)}
    return render(request, "treatment/procedure_detail.html", page)


@login_required
@require_http_methods(["GET", "POST"])
def procedure_edit(request: HttpRequest, procedure_id: int) -> HttpResponse:
    """Change a procedure."""
    procedure = _procedure(request, procedure_id)
    patient = procedure.patient
    encounters = encounters_of(patient)
    form = (
        ProcedureForm(request.POST, encounters=encounters)
        if request.method == "POST"
        else ProcedureForm.for_procedure(procedure, encounters=encounters)
    )

    def save() -> object:
        return surgery.procedure_update(
            context=context_of(request), procedure_id=procedure.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Change a procedure",
            submit="Save changes",
            back=_procedure_url(procedure.pk),
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=CHANGED,
        then=lambda _s: _procedure_url(procedure.pk),
        show=show,
        not_found=(surgery.ProcedureNotFound,),
    )
