"""The patient's treatment page, and what every treatment page shares: the patient read for a
clinician (audited), a refusal put beside its field, the save-or-show-again loop, and the
banners (the record's allergies and alerts, and the DBS battery alert). The services and
selectors refuse (and audit) everyone but clinicians: reception and administrators 403 on a
patient's pages and 404 for an id, patients 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from clinic.audit.models import AuditAction, AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import alerts
from clinic.records import selectors as records_selectors
from clinic.records.access import AccessRefused, DataCategory
from clinic.records.models import Encounter, Patient
from clinic.treatment import selectors
from clinic.treatment.rules import TreatmentRefused, patient_for_treatment

T = TypeVar("T")

# The encounters a record can be linked to (newest first).
ENCOUNTERS_OFFERED = 50


def context_of(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def patient_of(
    request: HttpRequest, patient_id: int, *, action: AuditAction, object_type: str
) -> Patient:
    """The patient, for a clinician (an audited read of their record), or the page's error:
    404 for an unknown patient or a patient, 403 for other staff."""
    context = context_of(request)
    try:
        patient_for_treatment(
            context=context, patient_id=patient_id, action=action, object_type=object_type
        )
        return records_selectors.patient_for_user(
            context=context, patient_id=patient_id, category=DataCategory.CLINICAL
        )
    except records_selectors.PatientNotFound:
        raise Http404("No such patient") from None
    except AccessRefused as error:
        raise error.page_error() from None


def found_or_error(find: Callable[[], T], *not_found: type[Exception]) -> T:
    """Call a selector of a row by its id; its refusals become the page's 404 or 403."""
    try:
        return find()
    except not_found:
        raise Http404("Not found") from None
    except AccessRefused as error:
        raise error.page_error() from None


def placed(refusal: TreatmentRefused, form: forms.Form | None) -> str:
    """Put a refusal beside its field when the form has it; else return it for the top."""
    if form is not None and refusal.field in form.fields:
        form.add_error(refusal.field, refusal.message)
        return ""
    return str(refusal.message)


def save_or_show(
    request: HttpRequest,
    form: forms.Form,
    *,
    save: Callable[[], object],
    done: str,
    then: Callable[[object], str],
    show: Callable[..., HttpResponse],
    not_found: tuple[type[Exception], ...] = (),
) -> HttpResponse:
    """Call ``save`` with a valid bound form, then go to ``then(saved)``; else show the form
    again (400 for bad input, the refusal's status for a refusal), the writer's entries kept."""
    refusal, status = "", 400 if form.is_bound else 200
    if form.is_bound and form.is_valid():
        try:
            saved = save()
        except AccessRefused as error:
            raise error.page_error() from None
        except not_found:
            raise Http404("Not found") from None
        except TreatmentRefused as problem:
            refusal, status = placed(problem, form), problem.status
        else:
            messages.success(request, done)
            return HttpResponseRedirect(then(saved))
    return show(form=form, refusal=refusal, status=status)


def banners(patient: Patient) -> dict[str, Any]:
    """The record's allergies and alerts and the battery alerts, for the top of each page
    (three queries; under the page's own audited read of the patient)."""
    return {
        "alerts": alerts.active_alerts(patient),
        "dbs_alerts": selectors.battery_alerts(patient),
    }


def encounters_of(patient: Patient) -> list[Encounter]:
    """The patient's encounters a record may be linked to, newest first."""
    return list(
        Encounter.objects.filter(patient=patient).order_by("-started_at", "-pk")[
            :ENCOUNTERS_OFFERED
        ]
    )


def render_form(
    request: HttpRequest,
    patient: Patient,
    *,
    form: forms.Form | None,
    title: str,
    submit: str,
    back: str,
    refusal: str = "",
    status: int = 200,
    template: str = "treatment/form.html",
    **extra: Any,
) -> HttpResponse:
    page = {
        "patient": patient,
        "form": form,
        "title": title,
        "submit": submit,
        "back": back,
        "refusal": refusal,
        **banners(patient),
        **extra,
    }
    return render(request, template, page, status=status)


@login_required
@require_safe
def patient_treatment(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's treatments: medication, therapy, deep brain stimulation, surgery, and the
    pathway advisor beside them."""
    patient = patient_of(request, patient_id, action=AuditAction.READ, object_type="treatment")
    page = selectors.treatment_page(context=context_of(request), patient=patient)
    # The battery alerts are the page's own (its DBS section read them already).
    context = {
        "patient": patient,
        "page": page,
        "alerts": alerts.active_alerts(patient),
        "dbs_alerts": page.alerts,
    }
    return render(request, "treatment/patient.html", context)
