"""Deep brain stimulation pages: add or change a system, a lead, a battery check, and a
programming session, whose page shows the charge density per active contact and, when a
contact exceeds the lead's published limit, the warning."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from clinic.audit.models import AuditAction
from clinic.treatment import dbs, dbs_programming, selectors
from clinic.treatment.dbs_forms import (
    BatteryCheckForm,
    DbsLeadForm,
    DbsProgrammingForm,
    DbsSystemForm,
)
from clinic.treatment.models import DbsLead, DbsProgramming, DbsSystem, Hemisphere
from clinic.treatment.views import (
    banners,
    context_of,
    encounters_of,
    found_or_error,
    patient_of,
    render_form,
    save_or_show,
)

SYSTEM_ADDED = "DBS system recorded."
SYSTEM_CHANGED = "DBS system changed."
LEAD_SAVED = "Lead saved."
BATTERY_ADDED = "Battery check recorded."
PROGRAMMING_ADDED = "Programming session recorded."


def _treatment_url(patient_id: int) -> str:
    return reverse("treatment:patient", args=[patient_id]) + "#dbs"


def _system(request: HttpRequest, system_id: int) -> DbsSystem:
    return found_or_error(
        lambda: dbs.system_for_clinician(context=context_of(request), system_id=system_id),
        dbs.DbsSystemNotFound,
    )


@login_required
@require_http_methods(["GET", "POST"])
def system_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record an implanted DBS system and its leads."""
    patient = patient_of(request, patient_id, action=AuditAction.CREATE, object_type="dbs_system")
    form = DbsSystemForm(request.POST if request.method == "POST" else None, with_leads=True)

    def save() -> object:
        return dbs.dbs_system_add(
            context=context_of(request),
            patient_id=patient.pk,
            details=form.details(),
            leads=form.leads(),
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Record a DBS system",
            submit="Record the system",
            back=_treatment_url(patient.pk),
            template="treatment/dbs_system_form.html",
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=SYSTEM_ADDED,
        then=lambda _s: _treatment_url(patient.pk),
        show=show,
    )


@login_required
@require_http_methods(["GET", "POST"])
def system_edit(request: HttpRequest, system_id: int) -> HttpResponse:
    """Change a DBS system's details."""
    system = _system(request, system_id)
    patient = system.patient
    form = (
        DbsSystemForm(request.POST)
        if request.method == "POST"
        else DbsSystemForm.for_system(system)
    )

    def save() -> object:
        return dbs.dbs_system_update(
            context=context_of(request), system_id=system.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Change the DBS system",
            submit="Save changes",
            back=_treatment_url(patient.pk),
            template="treatment/dbs_system_form.html",
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=SYSTEM_CHANGED,
        then=lambda _s: _treatment_url(patient.pk),
        show=show,
        not_found=(dbs.DbsSystemNotFound,),
    )


@login_required
@require_http_methods(["GET", "POST"])
def lead_save(request: HttpRequest, system_id: int, hemisphere: str) -> HttpResponse:
    """Add or change the system's lead in a hemisphere."""
    if hemisphere not in Hemisphere.values:
        raise Http404("No such hemisphere")
    system = _system(request, system_id)
    patient = system.patient
    lead = DbsLead.objects.filter(system=system, hemisphere=hemisphere).first()
    form = DbsLeadForm(request.POST) if request.method == "POST" else DbsLeadForm.for_lead(lead)
    label = Hemisphere(hemisphere).label.lower()

    def save() -> object:
        return dbs.dbs_lead_save(
            context=context_of(request), system_id=system.pk, details=form.details(hemisphere)
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title=f"{'Change' if lead else 'Add'} the {label} lead",
            submit="Save the lead",
            back=_treatment_url(patient.pk),
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=LEAD_SAVED,
        then=lambda _s: _treatment_url(patient.pk),
        show=show,
        not_found=(dbs.DbsSystemNotFound,),
    )


@login_required
@require_http_methods(["GET", "POST"])
def battery_add(request: HttpRequest, system_id: int) -> HttpResponse:
    """Record a battery check."""
    system = _system(request, system_id)
    patient = system.patient
    form = BatteryCheckForm(request.POST if request.method == "POST" else None)

    def save() -> object:
        return dbs.battery_check_add(
            context=context_of(request), system_id=system.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Record a battery check",
            submit="Record the check",
            back=_treatment_url(patient.pk),
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=BATTERY_ADDED,
        then=lambda _s: _treatment_url(patient.pk),
        show=show,
        not_found=(dbs.DbsSystemNotFound,),
    )


@login_required
@require_http_methods(["GET", "POST"])
def programming_add(request: HttpRequest, system_id: int) -> HttpResponse:
    """Record a programming session; the session's page then shows the charge density and any
    warning."""
    system = _system(request, system_id)
    patient = system.patient
    leads = list(DbsLead.objects.filter(system=system))
    form = DbsProgrammingForm(
        request.POST if request.method == "POST" else None,
        leads=leads,
        encounters=encounters_of(patient),
    )

    def save() -> object:
        return dbs_programming.dbs_programming_record(
            context=context_of(request), system_id=system.pk, details=form.details()
        )

    def show(**page: Any) -> HttpResponse:
        return render_form(
            request,
            patient,
            title="Record a programming session",
            submit="Record the session",
            back=_treatment_url(patient.pk),
            template="treatment/dbs_programming_form.html",
            system=system,
            **page,
        )

    return save_or_show(
        request,
        form,
        save=save,
        done=PROGRAMMING_ADDED,
        then=lambda saved: reverse(
            "treatment:dbs-programming", args=[cast(DbsProgramming, saved).pk]
        ),
        show=show,
        not_found=(dbs.DbsSystemNotFound,),
    )


@login_required
@require_safe
def programming_detail(request: HttpRequest, programming_id: int) -> HttpResponse:
    """A programming session: its settings, the charge density per active contact, and the
    warning where a contact exceeds the lead's published limit."""
    session = found_or_error(
        lambda: dbs_programming.programming_for_clinician(
            context=context_of(request), programming_id=programming_id
        ),
        dbs_programming.ProgrammingNotFound,
    )
    patient = session.system.patient
    page = {
        "patient": patient,
        "session": session,
        "settings": selectors.setting_views(session),
        **banners(patient),
    }
    return render(request, "treatment/dbs_programming_detail.html", page)
