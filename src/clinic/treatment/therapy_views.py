"""Therapy pages: refer, a referral's page with its sessions, change a referral (its status,
discharge and outcome), record a session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from clinic.audit.models import AuditAction
from clinic.treatment import therapy
from clinic.treatment.models import TherapyReferral
from clinic.treatment.therapy_forms import ReferralForm, TherapySessionForm
from clinic.treatment.views import (
    banners,
    context_of,
    encounters_of,
    found_or_error,
    patient_of,
    render_form,
    save_or_show,
)

REFERRED = "Referral recorded."
CHANGED = "Referral changed."
SESSION_ADDED = "Session recorded."


def _referral_url(referral_id: int) -> str:
    return reverse("treatment:therapy-referral", args=[referral_id])


def _referral(request: HttpRequest, referral_id: int) -> TherapyReferral:
    return found_or_error(
        lambda: therapy.referral_for_clinician(
            context=context_of(request), referral_id=referral_id
        ),
        therapy.ReferralNotFound,
    )


@login_required
@require_http_methods(["GET", "POST"])
def referral_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Refer the patient to a therapy."""
    patient = patient_of(
        request, patient_id, action=AuditAction.CREATE, object_type="therapy_referral"
    )
    form = ReferralForm(
        request.POST if request.method == "POST" else None, encounters=encounters_of(patient)
    )

    def save() -> object:
        return therapy.referral_add(
            context=context_of(request), patient_id=patient.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Refer to a therapy",
            submit="Record the referral",
            back=reverse("treatment:patient", args=[patient.pk]) + "#therapy",
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=REFERRED,
        then=lambda saved: _referral_url(getattr(saved, "pk", 0)),
        show=show,
    )


@login_required
@require_safe
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    """A referral and its sessions."""
    referral = _referral(request, referral_id)
    page = {
        "patient": referral.patient,
        "referral": referral,
        "sessions": therapy.sessions_of(referral),
        **banners(referral.patient),
    }
    return render(request, "treatment/therapy_referral_detail.html", page)


@login_required
@require_http_methods(["GET", "POST"])
def referral_edit(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Change a referral: its status, discharge and outcome."""
    referral = _referral(request, referral_id)
    patient = referral.patient
    encounters = encounters_of(patient)
    form = (
        ReferralForm(request.POST, encounters=encounters)
        if request.method == "POST"
        else ReferralForm.for_referral(referral, encounters=encounters)
    )

    def save() -> object:
        return therapy.referral_update(
            context=context_of(request), referral_id=referral.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Change a referral",
            submit="Save changes",
            back=_referral_url(referral.pk),
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=CHANGED,
        then=lambda _s: _referral_url(referral.pk),
        show=show,
        not_found=(therapy.ReferralNotFound,),
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_add(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Record a session of a referral."""
    referral = _referral(request, referral_id)
    form = TherapySessionForm(request.POST if request.method == "POST" else None)

    def save() -> object:
        return therapy.session_add(
            context=context_of(request), referral_id=referral.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            referral.patient,
            title="Record a therapy session",
            submit="Record the session",
            back=_referral_url(referral.pk),
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=SESSION_ADDED,
        then=lambda _s: _referral_url(referral.pk),
        show=show,
        not_found=(therapy.ReferralNotFound,),
    )
