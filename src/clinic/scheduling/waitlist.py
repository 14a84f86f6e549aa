"""The waiting list: patients who want an earlier appointment. When a time frees (a
cancellation or a move), the first waiting patients it suits are offered it by email, and it
is held for them for a while (extendable once). Nothing is booked until one accepts; the
first to accept gets it (docs/messages.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object, audit_record_many
from clinic.directory.models import Practitioner, Service, Site
from clinic.records.access import (
    Access,
    DataCategory,
    access_patient_data,
    access_patient_list,
    refuse,
)
from clinic.records.models import Patient
from clinic.scheduling import messaging, tasks
from clinic.scheduling.availability import clinic_tz, local_today, slot_check
from clinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    OfferStatus,
    ServiceSchedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from clinic.scheduling.services import (
    NOT_ONLINE,
    BookingBusy,
    BookingRefused,
    BookingRequest,
    appointment_book,
    appointment_reschedule,
    is_lock_error,
)
from clinic.scheduling.tokens import new_token, token_hash

TOKEN_MAX_LENGTH = 100
ALREADY_WAITING = "You are already on the waiting list for this service. Withdraw that first."
NOT_WAITING = "This waiting-list entry is no longer waiting."
OFFER_CLOSED = {
    OfferStatus.ACCEPTED: "You have already accepted this offer.",
    OfferStatus.DECLINED: "You turned this offer down.",
    OfferStatus.EXPIRED: "This offer has expired. You are still on the waiting list.",
    OfferStatus.TAKEN: "Someone else accepted this time first. You are still on the waiting list.",
}
EXPIRED = OFFER_CLOSED[OfferStatus.EXPIRED]
EXTENDED_ALREADY = "This offer has already been extended once."


class WaitlistProblem(ValueError):  # noqa: N818 - reads as the condition
    """The request cannot be done as asked; ``message`` says why."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class WaitlistRequest:
    """What a patient waits for: a service, at these sites (none: any), between two dates,
    optionally between two times of day."""

    patient: Patient
    service: Service
    sites: tuple[Site, ...]
    earliest_date: date
    latest_date: date
    earliest_time: time | None = None
    latest_time: time | None = None
    note: str = ""


_audit_entry = partial(audit_object, object_type="waitlist_entry")
_audit_offer = partial(audit_object, object_type="waitlist_offer")


def _may(context: AuditContext, patient: Patient, access: Access) -> bool:
    return access_patient_data(
        context.actor,
        patient_user_id=patient.user_id,
        category=DataCategory.APPOINTMENTS,
        access=access,
    )


def _validate_join(request: WaitlistRequest) -> None:
    today = local_today()
    if request.earliest_date < today:
        raise WaitlistProblem("The first date must be today or later.")
    if request.latest_date < request.earliest_date:
        raise WaitlistProblem("The last date must be on or after the first date.")
    if request.latest_date > today + timedelta(days=settings.BOOKING_HORIZON_DAYS):
        raise WaitlistProblem(
            f"We book up to {settings.BOOKING_HORIZON_DAYS} days ahead. "
            "Choose an earlier last date."
        )
    if (
        request.earliest_time is not None
        and request.latest_time is not None
        and request.latest_time <= request.earliest_time
    ):
        raise WaitlistProblem("The latest time of day must be after the earliest.")
    if not ServiceSchedule.objects.filter(service=request.service).exists():
        raise WaitlistProblem("This service is not booked by appointment.")
    offered_at = set(request.service.sites.values_list("pk", flat=True))
    if any(site.pk not in offered_at for site in request.sites):
        raise WaitlistProblem("One of the sites chosen does not offer this service.")
    if not request.patient.under_care:
        raise WaitlistProblem("This patient is no longer under the unit's care.")


def waitlist_join(*, context: AuditContext, request: WaitlistRequest) -> WaitlistEntry:
    """Put a patient on the waiting list (a patient themselves, or reception for anyone)."""
    if not _may(context, request.patient, Access.WRITE) or context.actor is None:
        raise refuse(
            context,
            object_type="waitlist_entry",
            patient=request.patient,
            detail="join refused",
            action=AuditAction.CREATE,
        )
    _validate_join(request)
    schedule = ServiceSchedule.objects.filter(service=request.service).first()
    if context.actor.role == Role.PATIENT and not (schedule and schedule.bookable_online):
        raise WaitlistProblem(NOT_ONLINE)
    with transaction.atomic():
        # The patient row lock makes "one waiting entry per service" hold under concurrency.
        Patient.objects.select_for_update().filter(pk=request.patient.pk).first()
        if WaitlistEntry.objects.filter(
            patient=request.patient, service=request.service, status=WaitlistStatus.WAITING
        ).exists():
            raise WaitlistProblem(ALREADY_WAITING)
        entry = WaitlistEntry.objects.create(
            patient=request.patient,
            service=request.service,
            earliest_date=request.earliest_date,
            latest_date=request.latest_date,
            earliest_time=request.earliest_time,
            latest_time=request.latest_time,
            note=request.note,
            created_by=context.actor,
        )
        entry.sites.set(request.sites)
        _audit_entry(
            context,
            AuditAction.CREATE,
            entry,
            request.patient,
            f"joined waiting list for {request.service.name}, "
            f"{request.earliest_date} to {request.latest_date}",
        )
    return entry


def waitlist_withdraw(*, context: AuditContext, entry_id: int) -> WaitlistEntry:
    """Take a patient off the waiting list; their open offers lapse."""
    entry = WaitlistEntry.objects.select_related("patient", "service").filter(pk=entry_id).first()
    if entry is None or not _may(context, entry.patient, Access.WRITE):
        raise refuse(
            context,
            object_type="waitlist_entry",
            object_id=entry_id,
            patient=entry.patient if entry else None,
            detail="withdraw refused",
            action=AuditAction.UPDATE,
        )
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry_id)
        if entry.status != WaitlistStatus.WAITING:
            raise WaitlistProblem(NOT_WAITING)
        entry.status = WaitlistStatus.WITHDRAWN
        entry.save(update_fields=["status"])
        lapsed = list(entry.offers.select_for_update().filter(status=OfferStatus.OPEN))
        entry.offers.filter(pk__in=[o.pk for o in lapsed]).update(status=OfferStatus.DECLINED)
        for offer in lapsed:
            transaction.on_commit(partial(_offer_again, offer))
        _audit_entry(context, AuditAction.UPDATE, entry, entry.patient, "withdrawn")
    return entry


def _suits(entry: WaitlistEntry, start: datetime, end: datetime) -> bool:
    """The time of day is inside the entry's window (dates and sites were filtered already)."""
    local_start, local_end = start.astimezone(clinic_tz()), end.astimezone(clinic_tz())
    if entry.earliest_time is not None and local_start.time() < entry.earliest_time:
        return False
    if entry.latest_time is not None and local_end.time() > entry.latest_time:
        return False
    return entry.patient.under_care


def _candidates(
    service: Service, site: Site, practitioner: Practitioner, start: datetime, end: datetime
) -> list[WaitlistEntry]:
    """Waiting entries this time could suit, first come first: the service, the site (or any
    site), the date inside the window; not already offered this time or holding another
    offer; the patient free then."""
    day = start.astimezone(clinic_tz()).date()
    offered_this_time = WaitlistOffer.objects.filter(
        entry=OuterRef("pk"), practitioner=practitioner, start=start
    )
    holding_offer = WaitlistOffer.objects.filter(
        entry=OuterRef("pk"), status=OfferStatus.OPEN, expires_at__gt=timezone.now()
    )
    patient_busy = Appointment.objects.filter(
        patient=OuterRef("patient"),
        status=AppointmentStatus.BOOKED,
        start__lt=end,
        end__gt=start,
    )
    entries = (
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING,
            service=service,
            earliest_date__lte=day,
            latest_date__gte=day,
        )
        .filter(Q(sites__isnull=True) | Q(sites=site))
        .exclude(Exists(offered_this_time))
        .exclude(Exists(holding_offer))
        .exclude(Exists(patient_busy))
        .select_related("patient__user", "service")
        .distinct()
        .order_by("created_at", "pk")
    )
    return [entry for entry in entries if _suits(entry, start, end)]


SYSTEM = AuditContext(actor=None)


def offer_freed_time(
    *, practitioner_id: int, site_id: int, service_id: int, start: datetime
) -> int:
    """Offer a freed time to the first waiting patients it suits, holding it for them.
    Idempotent: a time already held, booked or in the past is not offered again."""
    now = timezone.now()
    service = Service.objects.select_related("schedule").filter(pk=service_id).first()
    site = Site.objects.filter(pk=site_id).first()
    if start <= now or service is None or site is None:
        return 0
    schedule = ServiceSchedule.objects.filter(service=service).first()
    if schedule is None:
        return 0
    with transaction.atomic():
        # The practitioner row lock is the booking lock: no booking or other offer of this
        # time can interleave.
        practitioner = (
            Practitioner.objects.select_for_update()
            .filter(pk=practitioner_id, is_active=True)
            .first()
        )
        if practitioner is None:
            return 0
        # Patients already holding this very time: it is offered to more of them only up to
        # WAITLIST_OFFERS_PER_TIME (after one turned it down or left the list).
        holders = list(
            WaitlistOffer.objects.filter(
                practitioner=practitioner,
                start=start,
                status=OfferStatus.OPEN,
                expires_at__gt=now,
            ).values_list("entry__patient_id", flat=True)
        )
        wanted = settings.WAITLIST_OFFERS_PER_TIME - len(holders)
        if wanted <= 0:
            return 0
        check = slot_check(
            service=service,
            schedule=schedule,
            practitioner=practitioner,
            site=site,
            start=start,
            # Seen as one of its holders would see it: free but for everything else.
            patient_id=holders[0] if holders else None,
        )
        slot = check.slot
        if slot is None:
            return 0
        # The hold covers what the booking will: the appointment, its buffer up to the end
        # of the session, and its room.
        held_until = slot.end + timedelta(minutes=schedule.buffer_minutes)
        if check.session_end is not None:
            held_until = max(slot.end, min(held_until, check.session_end))
        chosen = _candidates(service, site, practitioner, start, slot.end)[:wanted]
        expires = min(now + timedelta(hours=settings.WAITLIST_HOLD_HOURS), start)
        for entry in chosen:
            token = new_token()
            offer = WaitlistOffer.objects.create(
                entry=entry,
                practitioner=practitioner,
                site=site,
                resource_id=slot.resource_id,
                start=start,
                end=held_until,
                token_hash=token_hash(token),
                expires_at=expires,
            )
            _audit_offer(
                SYSTEM,
                AuditAction.CREATE,
                offer,
                entry.patient,
                f"offered {service.name} at {start:%Y-%m-%d %H:%M}, held until "
                f"{expires:%Y-%m-%d %H:%M}",
            )
            messaging.queue_offer(SYSTEM, offer, token)
        if chosen:
            transaction.on_commit(lambda: schedule_expiry(expires))
    return len(chosen)


def schedule_expiry(when: datetime) -> None:
    """After the hold: lapse unanswered offers and offer the time to the next in line."""
    if tasks.expire_offers.get_backend().supports_defer:
        tasks.expire_offers.using(run_after=when).enqueue()


def expire_offers() -> int:
    """Mark offers past their hold as expired and offer each freed time again (to patients
    not yet offered it). Returns how many offers lapsed."""
    now = timezone.now()
    lapsed = list(
        WaitlistOffer.objects.filter(status=OfferStatus.OPEN, expires_at__lte=now).select_related(
            "entry"
        )
    )
    times = {(o.practitioner_id, o.site_id, o.entry.service_id, o.start) for o in lapsed}
    WaitlistOffer.objects.filter(pk__in=[o.pk for o in lapsed], status=OfferStatus.OPEN).update(
        status=OfferStatus.EXPIRED
    )
    for practitioner_id, site_id, service_id, start in times:
        offer_freed_time(
            practitioner_id=practitioner_id, site_id=site_id, service_id=service_id, start=start
        )
    return len(lapsed)


def offer_by_token(token: str) -> WaitlistOffer | None:
    """The offer behind a link's token; None for an unknown or malformed token."""
    if not token or len(token) > TOKEN_MAX_LENGTH or not token.isascii():
        return None
    return (
        WaitlistOffer.objects.select_related(
            "entry__patient__user", "entry__service", "practitioner", "site", "appointment"
        )
        .filter(token_hash=token_hash(token))
        .first()
    )


def offer_for(context: AuditContext, token: str, *, action: AuditAction) -> WaitlistOffer:
    """The offer, if this user may see or answer it (its patient, or reception); audited."""
    offer = offer_by_token(token)
    access = Access.READ if action == AuditAction.READ else Access.WRITE
    if offer is None or not _may(context, offer.entry.patient, access):
        raise refuse(
            context,
            object_type="waitlist_offer",
            object_id=offer.pk if offer else "",
            patient=offer.entry.patient if offer else None,
            detail="offer refused" if offer else "no offer with that link",
            action=action,
        )
    if action == AuditAction.READ:
        _audit_offer(context, action, offer, offer.entry.patient, "offer viewed")
    return offer


def _require_open(offer: WaitlistOffer) -> None:
    if offer.status != OfferStatus.OPEN:
        raise WaitlistProblem(OFFER_CLOSED[OfferStatus(offer.status)])
    if offer.expires_at <= timezone.now():
        raise WaitlistProblem(EXPIRED)


def offer_is_open(offer: WaitlistOffer) -> bool:
    """Whether the offer can still be answered."""
    return offer.status == OfferStatus.OPEN and offer.expires_at > timezone.now()


BUSY = "The calendar is busy; please try again in a moment. The time is still held for you."


def _lock_for_acceptance(offer: WaitlistOffer) -> WaitlistOffer:
    """The locks an acceptance takes before it books, in one order every path follows (entry,
    then the open offers of this time by key, then the booking's own): two patients accepting
    at once, or one withdrawing, wait rather than deadlock. Returns this offer, locked."""
    WaitlistEntry.objects.select_for_update().filter(pk=offer.entry_id).first()
    siblings = list(
        WaitlistOffer.objects.select_for_update()
        .filter(Q(pk=offer.pk) | Q(practitioner=offer.practitioner, start=offer.start))
        .order_by("pk")
    )
    return next(o for o in siblings if o.pk == offer.pk)


def _book_offered(context: AuditContext, offer: WaitlistOffer) -> Appointment:
    """Book the offered time, or move the patient's later appointment for the same service
    to it (they joined the list for an earlier time, not for a second appointment)."""
    entry = offer.entry
    later = (
        Appointment.objects.filter(
            patient=entry.patient,
            service=entry.service,
            status=AppointmentStatus.BOOKED,
            start__gt=offer.start,
        )
        .order_by("start")
        .first()
    )
    if later is not None:
        return appointment_reschedule(
            context=context,
            appointment_id=later.pk,
            start=offer.start,
            practitioner=offer.practitioner,
            site=offer.site,
            via_offer=True,
        )
    return appointment_book(
        context=context,
        request=BookingRequest(
            patient=entry.patient,
            service=entry.service,
            practitioner=offer.practitioner,
            site=offer.site,
            start=offer.start,
            via_offer=True,
        ),
    )


def offer_accept(*, context: AuditContext, token: str) -> Appointment:
    """Book the offered time for the patient (moving their later appointment for the service
    if they have one): the same checks and locks as any booking. The other patients offered
    the same time lose it; the patient leaves the waiting list. A busy calendar leaves the
    offer open; a time taken meanwhile closes it and goes to the next in line."""
    offer = offer_for(context, token, action=AuditAction.UPDATE)
    _require_open(offer)
    entry = offer.entry
    problem: str = ""
    try:
        with transaction.atomic():
            locked = _lock_for_acceptance(offer)
            _require_open(locked)
            try:
                appointment = _book_offered(context, offer)
            except BookingBusy:
                problem = BUSY
            except BookingRefused as refusal:
                problem = refusal.message
                if refusal.conflict:
                    problem = OFFER_CLOSED[OfferStatus.TAKEN]
                    locked.status = OfferStatus.TAKEN
                    locked.save(update_fields=["status"])
                    transaction.on_commit(lambda: _offer_again(offer))
            else:
                locked.status, locked.appointment = OfferStatus.ACCEPTED, appointment
                locked.save(update_fields=["status", "appointment"])
                WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.BOOKED)
                WaitlistOffer.objects.filter(
                    practitioner=offer.practitioner, start=offer.start, status=OfferStatus.OPEN
                ).update(status=OfferStatus.TAKEN)
                _audit_offer(
                    context,
                    AuditAction.UPDATE,
                    offer,
                    entry.patient,
                    f"accepted: appointment {appointment.pk}",
                )
    except OperationalError as error:
        if not is_lock_error(error):
            raise
        problem = BUSY
    if problem:
        raise WaitlistProblem(problem)
    return appointment


def offer_decline(*, context: AuditContext, token: str) -> WaitlistOffer:
    """Turn the time down (the patient stays on the list); it goes to the next in line."""
    offer = offer_for(context, token, action=AuditAction.UPDATE)
    with transaction.atomic():
        locked = WaitlistOffer.objects.select_for_update().get(pk=offer.pk)
        _require_open(locked)
        locked.status = OfferStatus.DECLINED
        locked.save(update_fields=["status"])
        _audit_offer(context, AuditAction.UPDATE, offer, offer.entry.patient, "declined")
        # To the next in line, once nobody else holds it (offering is idempotent, so two
        # patients declining at once cannot both leave it unoffered).
        transaction.on_commit(lambda: _offer_again(offer))
    offer.status = locked.status
    return offer


def _offer_again(offer: WaitlistOffer) -> None:
    """After commit: offer the time to the next in line (nothing happens while it is still
    held or has been booked)."""
    tasks.offer_freed_time.enqueue(
        offer.practitioner_id, offer.site_id, offer.entry.service_id, offer.start.isoformat()
    )


def offer_extend(*, context: AuditContext, token: str) -> WaitlistOffer:
    """More time to decide, once: the hold grows by WAITLIST_HOLD_EXTENSION_HOURS (never past
    the appointment itself)."""
    offer = offer_for(context, token, action=AuditAction.UPDATE)
    with transaction.atomic():
        locked = WaitlistOffer.objects.select_for_update().get(pk=offer.pk)
        _require_open(locked)
        if locked.extended:
            raise WaitlistProblem(EXTENDED_ALREADY)
        extension = timedelta(hours=settings.WAITLIST_HOLD_EXTENSION_HOURS)
        locked.expires_at = min(locked.expires_at + extension, locked.start)
        locked.extended = True
        locked.save(update_fields=["expires_at", "extended"])
        _audit_offer(
            context,
            AuditAction.UPDATE,
            offer,
            offer.entry.patient,
            f"hold extended to {locked.expires_at:%Y-%m-%d %H:%M}",
        )
        expires = locked.expires_at
        transaction.on_commit(lambda: schedule_expiry(expires))
    return locked


WAITLIST_PAGE_SIZE = 200


def entries_for(context: AuditContext, *, service: Service | None = None) -> list[WaitlistEntry]:
    """A patient's own entries (all states), or for reception and clinicians everyone still
    waiting (oldest first, at most WAITLIST_PAGE_SIZE); each patient shown is audited."""
    actor = context.actor
    if actor is None:
        return []
    entries = WaitlistEntry.objects.select_related("patient", "service").prefetch_related(
        "sites", "offers"
    )
    if actor.role == Role.PATIENT:
        entries = entries.filter(patient__user=actor).order_by("-created_at", "-pk")
    elif access_patient_list(actor):
        entries = entries.filter(status=WaitlistStatus.WAITING)
        if service is not None:
            entries = entries.filter(service=service)
    else:
        raise refuse(context, object_type="waitlist", detail="waiting list refused")
    shown = list(entries[:WAITLIST_PAGE_SIZE])
    audit_record_many(
        context=context,
        action=AuditAction.READ,
        object_type="waitlist_entry",
        patients=[entry.patient for entry in shown],
        detail="waiting list",
    )
    return shown
