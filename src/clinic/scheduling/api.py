"""The booking API: search slots, book (with Idempotency-Key), reschedule, cancel, list my
appointments. Conflicts answer 409 with a clear body; a lock timeout 409 with Retry-After."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth
from pydantic import AwareDatetime

from clinic.accounts.models import Role, User
from clinic.api_types import PlainText, Slug
from clinic.audit.models import AuditAction, AuditChannel, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from clinic.directory.models import Practitioner, Service, Site
from clinic.records.access import AccessRefused
from clinic.records.models import Patient
from clinic.scheduling import availability, selectors, services
from clinic.scheduling.availability import local_today
from clinic.scheduling.idempotency import IdempotencyProblem, Outcome, fingerprint, run_once
from clinic.scheduling.models import Appointment

router = Router(tags=["appointments"], auth=django_auth)


class SlotOut(Schema):
    start: datetime
    end: datetime
    practitioner: str
    site: str
    service: str


class AppointmentOut(Schema):
    id: int
    status: str
    start: datetime
    end: datetime
    service: str
    site: str
    practitioner: str
    patient_id: int
    overbooked: bool


class ErrorOut(Schema):
    detail: str
    errors: list[dict[str, str]]


class SlotSearch(Schema):
    service: Slug = Field(description="The service (slug).")
    site: Slug | None = Field(None, description="Only at this site (slug).")
    practitioner: Slug | None = Field(None, description="Only with this practitioner (slug).")
    date_from: date = Field(description="First day, in the clinic's time zone.")
    date_to: date = Field(
        description="Last day (inclusive); at most SLOT_SEARCH_MAX_DAYS after date_from."
    )


class FirstSearch(Schema):
    service: Slug
    site: Slug | None = None
    practitioner: Slug | None = None


class BookIn(Schema):
    service: Slug
    site: Slug
    practitioner: Slug
    start: AwareDatetime = Field(description="With its UTC offset, e.g. 2026-12-01T09:00:00Z.")
    patient_id: int | None = Field(None, description="Reception and clinicians: whom to book.")
    overbook_reason: PlainText = Field("", max_length=200)


class RescheduleIn(Schema):
    start: AwareDatetime = Field(description="With its UTC offset, e.g. 2026-12-01T09:00:00Z.")
    site: Slug | None = None
    practitioner: Slug | None = None


class CancelIn(Schema):
    reason: PlainText = Field(min_length=1, max_length=200)


class BookingProblem(ValueError):  # noqa: N818 - reads as the condition
    """Bad input a schema cannot express (an unknown slug, a date range): 422 naming it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _get(source: Any, field: str, slug: str | None) -> Any:
    """The object with this slug from a model or queryset; 422 naming the field if none."""
    if slug is None:
        return None
    objects = source.objects if hasattr(source, "objects") else source
    found = objects.filter(slug=slug).first()
    if found is None:
        raise BookingProblem(field, f"no {field} has the identifier '{slug}'")
    return found


def _slot_out(slot: availability.Slot, names: dict[str, dict[int, str]]) -> SlotOut:
    return SlotOut(
        start=slot.start,
        end=slot.end,
        practitioner=names["practitioner"][slot.practitioner_id],
        site=names["site"][slot.site_id],
        service=names["service"][slot.service_id],
    )


def _names(slots: list[availability.Slot]) -> dict[str, dict[int, str]]:
    return {
        "practitioner": dict(
            Practitioner.objects.filter(pk__in={s.practitioner_id for s in slots}).values_list(
                "pk", "slug"
            )
        ),
        "site": dict(
            Site.objects.filter(pk__in={s.site_id for s in slots}).values_list("pk", "slug")
        ),
        "service": dict(
            Service.objects.filter(pk__in={s.service_id for s in slots}).values_list("pk", "slug")
        ),
    }


def _appointment_out(appointment: Appointment) -> dict[str, Any]:
    return AppointmentOut(
        id=appointment.pk,
        status=appointment.status,
        start=appointment.start,
        end=appointment.end,
        service=appointment.service.slug,
        site=appointment.site.slug,
        practitioner=appointment.practitioner.slug,
        patient_id=appointment.patient_id,
        overbooked=appointment.overbooked,
    ).model_dump(mode="json")


@router.get("/slots", response=list[SlotOut], summary="Free slots for a service in a date range")
def search_slots(request: HttpRequest, search: Query[SlotSearch]) -> list[SlotOut]:
    if search.date_from < local_today():
        raise BookingProblem("date_from", "must be today or later")
    if search.date_to < search.date_from:
        raise BookingProblem("date_to", "must not be before date_from")
    if search.date_to - search.date_from > timedelta(days=settings.SLOT_SEARCH_MAX_DAYS - 1):
        raise BookingProblem(
            "date_to", f"a search covers at most {settings.SLOT_SEARCH_MAX_DAYS} days"
        )
    if search.date_from > local_today() + timedelta(days=settings.BOOKING_HORIZON_DAYS):
        raise BookingProblem(
            "date_from",
            f"bookings open at most {settings.BOOKING_HORIZON_DAYS} days ahead",
        )
    site = _get(Site, "site", search.site)
    query = availability.SlotQuery(
        service=_get(Service, "service", search.service),
        date_from=search.date_from,
        date_to=search.date_to,
        sites=(site,) if site else (),
        practitioner=_get(Practitioner, "practitioner", search.practitioner),
    )
    slots = availability.slots_search(query, not_before=datetime.now(tz=availability.clinic_tz()))
    names = _names(slots)
    return [_slot_out(slot, names) for slot in slots]


@router.get(
    "/slots/first", response={200: SlotOut, 404: ErrorOut}, summary="The first available slot"
)
def first_slot(request: HttpRequest, search: Query[FirstSearch]) -> Any:
    site = _get(Site, "site", search.site)
    slot = availability.first_available(
        service=_get(Service, "service", search.service),
        sites=(site,) if site else (),
        practitioner=_get(Practitioner, "practitioner", search.practitioner),
    )
    if slot is None:
        return 404, {"detail": "No free slot in the next weeks.", "errors": []}
    return _slot_out(slot, _names([slot]))


def _patient_for(request: HttpRequest, user: User, patient_id: int | None) -> Patient:
    if user.role == Role.PATIENT:
        patient = Patient.objects.filter(user=user).first()
        if patient is None or (patient_id is not None and patient_id != patient.pk):
            # A patient naming someone else's record is an attempt worth recording.
            audit_record(
                context=_context(request),
                action=AuditAction.CREATE,
                outcome=AuditOutcome.REFUSED,
                object_type="appointment",
                object_id="",
                patient=None,
                detail=f"patient booking for patient id {patient_id}",
            )
            raise AccessRefused(reveal=False)
        return patient
    if patient_id is None:
        raise BookingProblem("patient_id", "reception and clinicians say whom they book for")
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise BookingProblem("patient_id", "no such patient")
    return patient


def _conflict(refusal: services.BookingRefused) -> Outcome:
    status = 409 if refusal.conflict else 422
    return Outcome(
        status,
        {
            "detail": refusal.message,
            "errors": [
                {"parameter": "start", "in": "body", "message": f"start: {refusal.message}"}
            ],
        },
    )


def _refused(refusal: AccessRefused) -> Outcome:
    if refusal.reveal:
        return Outcome(403, {"detail": "You do not have access to this.", "errors": []})
    return Outcome(404, {"detail": "Not found.", "errors": []})


def _problem(problem: BookingProblem) -> Outcome:
    error = {
        "parameter": problem.field,
        "in": "body",
        "message": f"{problem.field}: {problem.message}",
    }
    return Outcome(422, {"detail": "Invalid booking request.", "errors": [error]})


def _answer(outcome: Outcome, *, busy: bool = False) -> HttpResponse:
    response = HttpResponse(
        json.dumps(outcome.body), status=outcome.status, content_type="application/json"
    )
    if busy:
        response["Retry-After"] = "1"
    return response


def _idempotent(request: HttpRequest, handler: Callable[[], Outcome]) -> HttpResponse:
    busy = {"value": False}
    refused = {"value": False}

    def guarded() -> Outcome:
        try:
            return handler()
        except services.BookingBusy as error:
            busy["value"] = True
            return _conflict(error)
        except services.BookingRefused as refusal:
            return _conflict(refusal)
        # Answered here, not by the API's handlers, so the transaction around a keyed
        # request commits the refusal's audit entry instead of rolling it back.
        except AccessRefused as refusal:
            refused["value"] = True
            return _refused(refusal)
        except BookingProblem as problem:
            refused["value"] = True
            return _problem(problem)

    try:
        outcome = run_once(
            user=request.user,  # type: ignore[arg-type]
            key=request.headers.get("Idempotency-Key"),
            request_fingerprint=fingerprint(request.method or "", request.path, request.body),
            handler=guarded,
            replay=lambda _outcome: not (busy["value"] or refused["value"]),
        )
    except OperationalError as error:
        # A lock wait on the idempotency key itself: as busy as any other lock.
        if not services.is_lock_error(error):
            raise
        return _answer(_conflict(services.BookingBusy()), busy=True)
    except IdempotencyProblem as problem:
        response = _answer(
            Outcome(
                problem.status,
                {
                    "detail": problem.message,
                    "errors": [
                        {"parameter": "Idempotency-Key", "in": "header", "message": problem.message}
                    ],
                },
            )
        )
        if problem.status == 409:
            response["Retry-After"] = "1"
        return response
    return _answer(outcome, busy=busy["value"])


@router.post(
    "/appointments",
    response={201: AppointmentOut, 409: ErrorOut, 422: ErrorOut},
    summary="Book an appointment (send an Idempotency-Key header to make retries safe)",
)
def book(request: HttpRequest, payload: BookIn) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]

    def handler() -> Outcome:
        appointment = services.appointment_book(
            context=_context(request),
            request=services.BookingRequest(
                patient=_patient_for(request, user, payload.patient_id),
                service=_get(
                    Service.objects.select_related("schedule"), "service", payload.service
                ),
                practitioner=_get(Practitioner, "practitioner", payload.practitioner),
                site=_get(Site, "site", payload.site),
                start=payload.start,
                overbook_reason=payload.overbook_reason,
            ),
        )
        return Outcome(201, _appointment_out(appointment))

    return _idempotent(request, handler)


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, 409: ErrorOut, 422: ErrorOut},
    summary="Move an appointment to another free slot",
)
def reschedule(request: HttpRequest, appointment_id: int, payload: RescheduleIn) -> HttpResponse:
    def handler() -> Outcome:
        appointment = services.appointment_reschedule(
            context=_context(request),
            appointment_id=appointment_id,
            start=payload.start,
            practitioner=_get(Practitioner, "practitioner", payload.practitioner),
            site=_get(Site, "site", payload.site),
        )
        return Outcome(200, _appointment_out(appointment))

    return _idempotent(request, handler)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, 409: ErrorOut, 422: ErrorOut},
    summary="Cancel an appointment",
)
def cancel(request: HttpRequest, appointment_id: int, payload: CancelIn) -> HttpResponse:
    def handler() -> Outcome:
        appointment = services.appointment_cancel(
            context=_context(request), appointment_id=appointment_id, reason=payload.reason
        )
        return Outcome(200, _appointment_out(appointment))

    return _idempotent(request, handler)


@router.get(
    "/appointments/mine",
    response=list[AppointmentOut],
    summary="The signed-in patient's appointments",
)
def mine(request: HttpRequest) -> list[dict[str, Any]]:
    patient = Patient.objects.filter(user=request.user).first()  # type: ignore[misc]
    if patient is None:
        raise HttpError(404, "Not found.")
    found = selectors.appointments_of_patient(context=_context(request), patient=patient)
    return [_appointment_out(a) for a in found.upcoming + found.past]
