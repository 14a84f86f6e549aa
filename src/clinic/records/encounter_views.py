"""Encounter pages for clinicians: today's clinic, starting an encounter (from an appointment
or standalone), its notes, signing after a confirmation, addenda. Reception and
administrators are answered 403 and patients 404 by the services and selectors, which audit
every refusal. A refused save shows the page again with the writer's text kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import (
    alerts,
    encounter_selectors,
    encounters,
    examination_views,
    history,
    letter_selectors,
)
from clinic.records import selectors as records_selectors
from clinic.records.access import AccessRefused
from clinic.records.encounter_forms import (
    OUT_OF_DATE,
    AddendumForm,
    EncounterNotesForm,
    EncounterSignForm,
    EncounterStartForm,
)
from clinic.records.encounters import EncounterNotFound, EncounterRefused
from clinic.records.models import Encounter, Patient
from clinic.scheduling.idempotency import IdempotencyProblem, Outcome, fingerprint, run_once
from clinic.scheduling.models import Appointment

STARTED = "Encounter started. Write your notes, save them, and sign when they are complete."
OPENED = "This appointment's encounter was already started: here it is."
NOTES_SAVED = "Notes saved. They stay a draft until you sign."
SIGNED = "Encounter signed and locked. Corrections from now on are addenda."
ADDENDUM_ADDED = "Addendum added."
# Where a service's refusal is shown on the start form, when not beside a field of its own.
_START_FIELDS = {"started_at": "date"}


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _encounter(request: HttpRequest, encounter_id: int) -> Encounter:
    """The encounter with its addenda (an audited read), or the page's 404 or 403."""
    try:
        return encounter_selectors.encounter_for_clinician(
            context=_context(request), encounter_id=encounter_id
        )
    except EncounterNotFound:
        raise Http404("No such encounter") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _placed(refusal: EncounterRefused, form: EncounterStartForm | AddendumForm) -> str:
    """Put a refusal beside its field when the form has it; else return it for the top."""
    field = _START_FIELDS.get(refusal.field, refusal.field)
    if field in form.fields:
        form.add_error(field, refusal.message)
        return ""
    return refusal.message


@login_required
@require_safe
def clinic_today(request: HttpRequest) -> HttpResponse:
    """The signed-in clinician's appointments today, each to start or open its encounter."""
    try:
        clinic = encounter_selectors.clinic_today(context=_context(request))
    except AccessRefused as error:
        raise error.page_error() from None
    return render(request, "records/clinic_today.html", {"clinic": clinic})


UNSAVED_BECAUSE_STARTED = (
    "This appointment's encounter was already started by a colleague, so your notes were not "
    "saved. They are still in the box below: copy them, then open the encounter."
)


def _appointment(request: HttpRequest, patient: Patient) -> Appointment | None:
    """The patient's appointment named by ``?appointment=``, if any (404 when it is not)."""
    raw = request.GET.get("appointment", "")
    if not raw:
        return None
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not re.fullmatch(r"[0-9]{1,12}", raw):
        raise Http404("No such appointment")
    found = (
        Appointment.objects.select_related("site", "service", "practitioner", "encounter")
        .defer("encounter__notes")
        .filter(pk=int(raw), patient=patient)
        .first()
    )
    if found is None:
        raise Http404("No such appointment")
    return found


def _form_body(request: HttpRequest) -> bytes:
    """What was submitted, without the CSRF token (the same form sent again is the same)."""
    fields = sorted((k, v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken")
    return urlencode(fields).encode()


def _once(
    request: HttpRequest, submission: str | None, start: Callable[[], tuple[Encounter, bool]]
) -> tuple[Encounter, bool]:
    """Run ``start`` once per submitted form (the booking API's Idempotency-Key store): a
    repeat of a form that already made an encounter opens that encounter. Refusals are not
    kept, so a corrected form can be sent again; they are raised after the claim's
    transaction, whose audit entries commit."""
    if submission is None:
        return start()
    made: list[tuple[Encounter, bool]] = []
    failed: list[Exception] = []

    def handler() -> Outcome:
        try:
            made.append(start())
        except (AccessRefused, EncounterRefused) as error:
            failed.append(error)
            return Outcome(400, {})
        return Outcome(201, {"encounter_id": made[0][0].pk})

    outcome = run_once(
        user=request.user,  # type: ignore[arg-type]
        key=f"encounter-start:{submission}",
        request_fingerprint=fingerprint("POST", request.path, _form_body(request)),
        handler=handler,
        replay=lambda answer: answer.status == 201,
    )
    if failed:
        raise failed[0]
    if made:
        return made[0]
    return Encounter.objects.get(pk=outcome.body["encounter_id"]), False


@login_required
@require_http_methods(["GET", "POST"])
def encounter_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Start an encounter for a patient: from an appointment (``?appointment=``), or on its
    own (a walk-in, a telephone review)."""
    context = _context(request)
    try:
        patient = encounter_selectors.patient_for_encounter(context=context, patient_id=patient_id)
    except records_selectors.PatientNotFound:
        raise Http404("No such patient") from None
    except AccessRefused as error:
        raise error.page_error() from None
    appointment = _appointment(request, patient)
    existing = getattr(appointment, "encounter", None) if appointment else None
    if existing is not None and request.method == "GET":
        return redirect("records:encounter-detail", encounter_id=existing.pk)
    initial = {"kind": encounters.kind_for_service(appointment.service.slug)} if appointment else {}
    form = EncounterStartForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        from_appointment=appointment is not None,
    )
    refusal, status = "", 200
    if form.is_bound and form.is_valid():
        data = form.cleaned_data

        def start() -> tuple[Encounter, bool]:
            return encounters.encounter_start(
                context=context,
                patient=patient,
                kind=data["kind"],
                site=data.get("site"),
                started_at=form.started_at(),
                appointment=appointment,
                notes=data["notes"],
            )

        try:
            encounter, created = _once(request, data.get("submission") or None, start)
        except AccessRefused as error:
            raise error.page_error() from None
        except EncounterRefused as problem:
            refusal, status = _placed(problem, form), problem.status
        except IdempotencyProblem as problem:
            refusal, status = problem.message, problem.status
        else:
            if not created and appointment is not None and data["notes"].strip():
                # A colleague started it first: their notes are not this writer's to change,
                # so the text just typed is shown back to copy, never silently dropped.
                refusal, status = UNSAVED_BECAUSE_STARTED, 409
            else:
                messages.success(request, STARTED if created else OPENED)
                return redirect("records:encounter-detail", encounter_id=encounter.pk)
    elif form.is_bound:
        status = 400
    page = {
        "form": form,
        "patient": patient,
        "appointment": appointment,
        "refusal": refusal,
        "alerts": alerts.active_alerts(patient),
    }
    return render(request, "records/encounter_new.html", page, status=status)


def _notes_form(
    encounter: Encounter, form: EncounterNotesForm | None, refusal: EncounterRefused | None
) -> tuple[EncounterNotesForm, str, bool]:
    """The notes form to show with a draft, the message for the top of the page, and whether
    the saved notes differ from what the writer saw (then both are shown, and the form
    carries the current version, so saving again is a choice made with both in view)."""
    if form is None:
        initial = {"notes": encounter.notes, "updated_at": encounter.updated_at.isoformat()}
        return EncounterNotesForm(initial=initial), "", False
    out_of_date = OUT_OF_DATE in form.non_field_errors()
    if out_of_date or (refusal is not None and refusal.message == encounters.STALE):
        data = {"notes": form.data.get("notes", ""), "updated_at": encounter.updated_at.isoformat()}
        fresh = EncounterNotesForm(data)
        fresh.is_valid()
        fresh.add_error("notes", encounters.STALE)
        return fresh, "", True
    if refusal is not None and refusal.field in form.fields:
        form.add_error(refusal.field, refusal.message)
        return form, "", False
    return form, refusal.message if refusal else "", False


def _detail(
    request: HttpRequest,
    encounter_id: int,
    *,
    form: EncounterNotesForm | None = None,
    refusal: EncounterRefused | None = None,
    status: int = 200,
) -> HttpResponse:
    encounter = _encounter(request, encounter_id)
    page: dict[str, object] = {
        "encounter": encounter,
        "refusal": refusal.message if refusal else "",
        "alerts": alerts.active_alerts(encounter.patient),
        "letters": letter_selectors.letters_of_encounter(
            context=_context(request), encounter=encounter
        ),
        "history": history.history_section(context=_context(request), encounter=encounter),
        **examination_views.section_page(request, encounter),
    }
    if not encounter.is_signed and encounter.clinician_id == request.user.pk:
        page["form"], page["refusal"], page["conflict"] = _notes_form(encounter, form, refusal)
    elif form is not None:
        # Signed meanwhile, or not theirs: keep what they wrote where they can copy it.
        page["unsaved"] = form.data.get("notes", "")
    return render(request, "records/encounter_detail.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def encounter_detail(request: HttpRequest, encounter_id: int) -> HttpResponse:
    """One encounter. While a draft, its clinician edits the notes here ("Save and sign"
    goes on to the confirmation); once signed, it is read-only, with its addenda."""
    if request.method == "GET":
        return _detail(request, encounter_id)
    form = EncounterNotesForm(request.POST)
    if not form.is_valid():
        return _detail(request, encounter_id, form=form, status=400)
    try:
        encounters.encounter_update_notes(
            context=_context(request),
            encounter_id=encounter_id,
            notes=form.cleaned_data["notes"],
            expected_updated_at=form.cleaned_data["updated_at"],
        )
    except EncounterNotFound:
        raise Http404("No such encounter") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except EncounterRefused as refusal:
        return _detail(request, encounter_id, form=form, refusal=refusal, status=refusal.status)
    if request.POST.get("then") == "sign":
        return redirect("records:encounter-sign", encounter_id=encounter_id)
    messages.success(request, NOTES_SAVED)
    return redirect("records:encounter-detail", encounter_id=encounter_id)


def _sign_page(
    request: HttpRequest, encounter_id: int, *, refusal: str = "", status: int = 200
) -> HttpResponse:
    encounter = _encounter(request, encounter_id)
    form = EncounterSignForm(initial={"updated_at": encounter.updated_at.isoformat()})
    page = {
        "encounter": encounter,
        "form": form,
        "refusal": refusal,
        "can_sign": not encounter.is_signed and encounter.clinician_id == request.user.pk,
        "alerts": alerts.active_alerts(encounter.patient),
    }
    return render(request, "records/encounter_sign.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def encounter_sign(request: HttpRequest, encounter_id: int) -> HttpResponse:
    """Confirm, then sign and lock the notes as shown (a version saved elsewhere meanwhile
    is shown again instead of being signed unseen)."""
    if request.method == "GET":
        return _sign_page(request, encounter_id)
    form = EncounterSignForm(request.POST)
    if not form.is_valid():
        return _sign_page(request, encounter_id, refusal=OUT_OF_DATE, status=400)
    try:
        encounters.encounter_sign(
            context=_context(request),
            encounter_id=encounter_id,
            expected_updated_at=form.cleaned_data["updated_at"],
        )
    except EncounterNotFound:
        raise Http404("No such encounter") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except EncounterRefused as refusal:
        return _sign_page(request, encounter_id, refusal=refusal.message, status=refusal.status)
    messages.success(request, SIGNED)
    return redirect("records:encounter-detail", encounter_id=encounter_id)


@login_required
@require_http_methods(["GET", "POST"])
def addendum_new(request: HttpRequest, encounter_id: int) -> HttpResponse:
    """Add an addendum to a signed encounter (any clinician)."""
    form = AddendumForm(request.POST if request.method == "POST" else None)
    refusal, status = "", 200
    if form.is_bound and form.is_valid():
        try:
            encounters.addendum_add(
                context=_context(request), encounter_id=encounter_id, text=form.cleaned_data["text"]
            )
        except EncounterNotFound:
            raise Http404("No such encounter") from None
        except AccessRefused as error:
            raise error.page_error() from None
        except EncounterRefused as problem:
            refusal, status = _placed(problem, form), problem.status
        else:
            messages.success(request, ADDENDUM_ADDED)
            return redirect(reverse("records:encounter-detail", args=[encounter_id]) + "#addenda")
    elif form.is_bound:
        status = 400
    encounter = _encounter(request, encounter_id)
    page = {
        "encounter": encounter,
        "form": form,
        "refusal": refusal,
        "alerts": alerts.active_alerts(encounter.patient),
    }
    return render(request, "records/encounter_addendum.html", page, status=status)
