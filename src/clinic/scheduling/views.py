"""Booking pages (the patient's own flow and reception's), an appointment, cancelling, and
reception's day and week views."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.directory.models import Practitioner, Service, Site
from clinic.records import selectors as records_selectors
from clinic.records.access import AccessRefused, DataCategory
from clinic.records.models import Patient
from clinic.scheduling import availability, follow_up, selectors, services
from clinic.scheduling.availability import local_today
from clinic.scheduling.forms import (
    BookingSearchForm,
    CalendarForm,
    CancelForm,
    ConfirmForm,
)
from clinic.scheduling.models import Appointment

SEARCH_DAYS = 7
MOVE_KEEPS_SERVICE = (
    "A moved appointment keeps its service. To change the service, cancel it and book again."
)
MOVE_KEEPS_PATIENT = "This appointment belongs to another patient."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _own_patient(request: HttpRequest) -> Patient:
    user: User = request.user  # type: ignore[assignment]
    patient = Patient.objects.filter(user=user).first()
    if patient is None:
        raise Http404("No patient record is linked to this account")
    return patient


@login_required
@require_safe
def book(request: HttpRequest) -> HttpResponse:
    """Choose a service, a site and a date, then a slot (or the first available)."""
    user: User = request.user  # type: ignore[assignment]
    if user.role not in {Role.PATIENT, Role.RECEPTION, Role.CLINICIAN}:
        raise PermissionDenied
    own = None if user.books_for_others else Patient.objects.filter(user=user).first()
    form = BookingSearchForm(
        request.GET or None,
        staff=user.books_for_others,
        follow_up_services=follow_up.services_open_to(own),
    )
    context: dict[str, object] = {"form": form, "slots": None}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        sites = (data["site"],) if data["site"] else ()
        # A patient booking a service the unit books, through their open follow-up, searches
        # only inside its window.
        window = follow_up.follow_up_search_window(
            patient=own, service=data["service"], staff=user.books_for_others
        )
        context["follow_up_window"] = window
        if window and data["date"] and not window.holds(data["date"]):
            form.add_error("date", window.message)
            return render(request, "scheduling/book.html", context, status=400)
        # The appointment being moved frees the times around it (if it is theirs).
        moving = _appointment_or_404(request, data["reschedule"]) if data["reschedule"] else None
        context["moving"] = moving
        mismatch = _moving_mismatch(moving, data["service"], data.get("patient"))
        if mismatch:
            form.add_error(None, mismatch)
            return render(request, "scheduling/book.html", context, status=400)
        if data["date"] is None and window is not None:
            first = follow_up.first_available_in(window, service=data["service"], sites=sites)
            slots = [first] if first else []
            context["first_available"] = True
        elif data["date"] is None:
            first = availability.first_available(
                service=data["service"],
                sites=sites,
                practitioner=data.get("practitioner"),
                moving=moving,
            )
            slots = [first] if first else []
            context["first_available"] = True
        else:
            query = availability.SlotQuery(
                service=data["service"],
                date_from=data["date"],
                date_to=data["date"],
                sites=sites,
                practitioner=data.get("practitioner"),
                exclude_appointment_id=moving.pk if moving else None,
            )
            slots = availability.other_times(
                availability.slots_search(
                    query, not_before=datetime.now(tz=availability.clinic_tz())
                ),
                moving,
            )
        context["slots"] = _slot_rows(slots, request, data)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "scheduling/book.html", context, status=status)


def _moving_mismatch(
    moving: Appointment | None, service: Service, patient: Patient | None
) -> str | None:
    """A move keeps the appointment's patient and service; a search or confirmation that
    names others (an edited address) is refused rather than silently ignored."""
    if moving is None:
        return None
    if service != moving.service:
        return MOVE_KEEPS_SERVICE
    if patient is not None and patient != moving.patient:
        return MOVE_KEEPS_PATIENT
    return None


def _appointment_or_404(request: HttpRequest, appointment_id: int) -> Appointment:
    try:
        return selectors.appointment_for_user(
            context=_context(request), appointment_id=appointment_id
        )
    except selectors.AppointmentNotFound:
        raise Http404("No such appointment") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _slot_rows(
    slots: list[availability.Slot], request: HttpRequest, data: dict[str, object]
) -> list[dict[str, object]]:
    practitioners = {
        p.pk: p for p in Practitioner.objects.filter(pk__in={s.practitioner_id for s in slots})
    }
    sites = {s.pk: s for s in Site.objects.filter(pk__in={s.site_id for s in slots})}
    rows = []
    for slot in slots:
        practitioner, site = practitioners[slot.practitioner_id], sites[slot.site_id]
        params = {
            "service": data["service"].slug,  # type: ignore[attr-defined]
            "site": site.slug,
            "practitioner": practitioner.slug,
            "start": slot.start.isoformat(),
        }
        if data.get("patient"):
            params["patient"] = data["patient"].hospital_number  # type: ignore[attr-defined]
        if data.get("reschedule"):
            params["reschedule"] = str(data["reschedule"])
        rows.append(
            {"slot": slot, "practitioner": practitioner, "site": site, "query": urlencode(params)}
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """Check the chosen slot and book it (or move an appointment to it)."""
    user: User = request.user  # type: ignore[assignment]
    form = ConfirmForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return render(
            request, "scheduling/confirm.html", {"form": form, "invalid": True}, status=400
        )
    data = form.cleaned_data
    patient = _patient_for(request, user, data.get("patient") or "")
    if data.get("reschedule"):
        moving = _appointment_or_404(request, data["reschedule"])
        mismatch = _moving_mismatch(moving, data["service"], patient)
        if mismatch:
            form.add_error(None, mismatch)
            return render(
                request, "scheduling/confirm.html", {"form": form, "invalid": True}, status=400
            )
    back = {"service": data["service"].slug, "site": data["site"].slug}
    if user.books_for_others:
        back["patient"] = patient.hospital_number
    if data.get("reschedule"):
        back["reschedule"] = str(data["reschedule"])
    page = {"form": form, "data": data, "patient": patient, "back_query": urlencode(back)}
    if request.method == "GET":
        return render(request, "scheduling/confirm.html", page)
    try:
        if data.get("reschedule"):
            appointment = services.appointment_reschedule(
                context=_context(request),
                appointment_id=data["reschedule"],
                start=data["start"],
                practitioner=data["practitioner"],
                site=data["site"],
            )
        else:
            appointment = services.appointment_book(
                context=_context(request),
                request=services.BookingRequest(
                    patient=patient,
                    service=data["service"],
                    practitioner=data["practitioner"],
                    site=data["site"],
                    start=data["start"],
                    overbook_reason=data["overbook_reason"] if user.books_for_others else "",
                ),
            )
    except AccessRefused as error:
        raise error.page_error() from None
    except services.BookingRefused as refusal:
        form.add_error(None, refusal.message)
        # Staff may overbook a time another booking holds, not a busy patient or a lock wait.
        page["offer_overbook"] = refusal.message == services.SLOT_TAKEN
        return render(
            request, "scheduling/confirm.html", page, status=409 if refusal.conflict else 400
        )
    messages.success(
        request,
        "Your appointment is booked."
        if not data.get("reschedule")
        else "Your appointment has been moved.",
    )
    return redirect("scheduling:detail", appointment_id=appointment.pk)


def _patient_for(request: HttpRequest, user: User, hospital_number: str) -> Patient:
    """The patient being booked for; staff see their name, so that read is checked and
    audited."""
    if not user.books_for_others:
        return _own_patient(request)
    found = Patient.objects.filter(hospital_number__iexact=hospital_number.strip()).first()
    if found is None:
        raise Http404("No such patient")
    try:
        return records_selectors.patient_for_user(
            context=_context(request), patient_id=found.pk, category=DataCategory.APPOINTMENTS
        )
    except AccessRefused as error:
        raise error.page_error() from None


@login_required
@require_safe
def detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """One appointment, with its history, and the ways to move or cancel it."""
    try:
        appointment = selectors.appointment_for_user(
            context=_context(request), appointment_id=appointment_id
        )
    except selectors.AppointmentNotFound:
        raise Http404("No such appointment") from None
    except AccessRefused as error:
        raise error.page_error() from None
    reschedule = urlencode(
        {
            "service": appointment.service.slug,
            "site": appointment.site.slug,
            "reschedule": appointment.pk,
        }
    )
    if request.user.books_for_others:  # type: ignore[union-attr]
        reschedule += "&" + urlencode({"patient": appointment.patient.hospital_number})
    context = {
        "appointment": appointment,
        "cancel_form": CancelForm(),
        "reschedule_query": reschedule,
        "can_move_online": selectors.movable_online_by(request.user, appointment),
    }
    return render(request, "scheduling/detail.html", context)


@login_required
@require_POST
def cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Cancel an appointment, saying why."""
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_cancel(
                context=_context(request),
                appointment_id=appointment_id,
                reason=form.cleaned_data["reason"],
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except services.BookingRefused as refusal:
            form.add_error("reason", refusal.message)
        else:
            messages.success(request, "The appointment is cancelled.")
            return redirect("scheduling:detail", appointment_id=appointment_id)
    try:
        appointment = selectors.appointment_for_user(
            context=_context(request), appointment_id=appointment_id
        )
    except (selectors.AppointmentNotFound, AccessRefused):
        raise Http404("No such appointment") from None
    context = {"appointment": appointment, "cancel_form": form, "reschedule_query": ""}
    return render(request, "scheduling/detail.html", context, status=400)


def _calendar(request: HttpRequest, *, days: int, template: str) -> HttpResponse:
    form = CalendarForm(
        request.GET
        or {
            "site": Site.objects.order_by("-is_specialist_unit", "name")
            .values_list("slug", flat=True)
            .first()
            or ""
        }
    )
    if not form.is_valid():
        return render(request, template, {"form": form, "columns": None}, status=400)
    data = form.cleaned_data
    first_day: date = data["date"]
    if days == 7:
        first_day -= timedelta(days=first_day.weekday())
    try:
        appointments = selectors.calendar_for_staff(
            context=_context(request),
            site=data["site"],
            first_day=first_day,
            days=days,
            practitioner=data["practitioner"],
        )
    except AccessRefused as error:
        raise error.page_error() from None
    by_day: dict[date, list[object]] = defaultdict(list)
    tz = availability.clinic_tz()
    for appointment in appointments:
        by_day[appointment.start.astimezone(tz).date()].append(appointment)
    columns = [
        (first_day + timedelta(days=n), by_day.get(first_day + timedelta(days=n), []))
        for n in range(days)
    ]
    step = timedelta(days=days)
    base = {"site": data["site"].slug}
    if data["practitioner"]:
        base["practitioner"] = data["practitioner"].slug
    context = {
        "form": form,
        "columns": columns,
        "site": data["site"],
        "first_day": first_day,
        "filters": urlencode(base),
        "previous": urlencode(base | {"date": (first_day - step).isoformat()}),
        "next": urlencode(base | {"date": (first_day + step).isoformat()}),
        "today": local_today(),
    }
    return render(request, template, context)


@login_required
@require_safe
def day_view(request: HttpRequest) -> HttpResponse:
    """One site's appointments on one day (reception and clinicians)."""
    return _calendar(request, days=1, template="scheduling/day.html")


@login_required
@require_safe
def week_view(request: HttpRequest) -> HttpResponse:
    """One site's appointments over a week, Monday to Sunday (reception and clinicians)."""
    return _calendar(request, days=7, template="scheduling/week.html")
