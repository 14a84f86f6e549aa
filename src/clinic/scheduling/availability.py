"""Free slots for a search, computed from the scheduling facts with a fixed number of queries
whatever the number of appointments (the core does the arithmetic: dystonia.slots)."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from clinic.directory.models import Practitioner, Service, Site
from clinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Leave,
    OfferStatus,
    Resource,
    ScheduleException,
    ServiceSchedule,
    WaitlistOffer,
    WorkingPattern,
)
from dystonia.slots import Interval, free_slots, local_window, subtract


class Slot(NamedTuple):
    """A bookable time: who, where, when, and the room or equipment it would use (a named
    tuple: searches make thousands)."""

    start: datetime
    end: datetime
    practitioner_id: int
    site_id: int
    service_id: int
    resource_id: int | None


def _slot_order(slot: Slot) -> tuple[datetime, int, int]:
    return slot.start, slot.practitioner_id, slot.site_id


@dataclass(frozen=True)
class SlotQuery:
    """A search: one service; optionally sites and a practitioner; local dates, inclusive."""

    service: Service
    date_from: date
    date_to: date
    sites: tuple[Site, ...] = ()
    practitioner: Practitioner | None = None
    exclude_appointment_id: int | None = None


def clinic_tz() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def local_today() -> date:
    """Today in the clinic's time zone."""
    return timezone.now().astimezone(clinic_tz()).date()


def _day_bounds(query: SlotQuery) -> tuple[datetime, datetime]:
    tz = clinic_tz()
    start = datetime.combine(query.date_from, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(query.date_to + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start, end


def _days(query: SlotQuery) -> Iterable[date]:
    day = query.date_from
    while day <= query.date_to:
        yield day
        day += timedelta(days=1)


class _Occupancy:
    """A resource's booked spans, sorted, for fast "is it free then?" checks. Bookings of one
    resource never overlap each other (the database sees to it), so their ends are sorted too."""

    def __init__(self, spans: list[Interval]) -> None:
        ordered = sorted(spans)
        self.starts = [span.start for span in ordered]
        self.ends = [span.end for span in ordered]

    def free(self, start: datetime, end: datetime) -> bool:
        before = bisect_left(self.starts, end) - 1
        return before < 0 or self.ends[before] <= start


def _free_resource(
    candidates: list[int], occupancy: dict[int, _Occupancy], start: datetime, end: datetime
) -> int | None:
    for resource_id in candidates:
        taken = occupancy.get(resource_id)
        if taken is None or taken.free(start, end):
            return resource_id
    return None


def _resources_by_site(schedule: ServiceSchedule) -> dict[int, list[int]]:
    """The active resources of the kind the service needs, per site, in key order."""
    by_site: dict[int, list[int]] = defaultdict(list)
    if schedule.resource_kind:
        rows = (
            Resource.objects.filter(kind=schedule.resource_kind, is_active=True)
            .order_by("pk")
            .values_list("pk", "site_id")
        )
        for resource_pk, resource_site in rows:
            by_site[resource_site].append(resource_pk)
    return by_site


def _busy_time(
    query: SlotQuery, practitioner_ids: list[int], resource_ids: list[int]
) -> tuple[dict[int, list[Interval]], dict[int, _Occupancy]]:
    """Booked time in the range per practitioner and per resource, from one query."""
    range_start, range_end = _day_bounds(query)
    booked = Appointment.objects.filter(
        Q(practitioner_id__in=practitioner_ids) | Q(resource_id__in=resource_ids),
        status=AppointmentStatus.BOOKED,
        start__lt=range_end,
        blocked_until__gt=range_start,
    )
    if query.exclude_appointment_id is not None:
        booked = booked.exclude(pk=query.exclude_appointment_id)
    busy: dict[int, list[Interval]] = defaultdict(list)
    by_resource: dict[int, list[Interval]] = defaultdict(list)
    wanted = set(practitioner_ids)
    rows = booked.values_list("practitioner_id", "resource_id", "start", "blocked_until")
    for practitioner_id, resource_id, start, until in rows:
        span = Interval(start, until)
        if practitioner_id in wanted:
            busy[practitioner_id].append(span)
        if resource_id is not None:
            by_resource[resource_id].append(span)
    for hold in _held(practitioner_ids, resource_ids, range_start, range_end):
        span = Interval(hold.start, hold.end)
        if hold.practitioner_id in wanted:
            busy[hold.practitioner_id].append(span)
        if hold.resource_id is not None:
            by_resource[hold.resource_id].append(span)
    return busy, {key: _Occupancy(spans) for key, spans in by_resource.items()}


class Hold(NamedTuple):
    """A span held for a waiting-list offer: its practitioner and room are busy then."""

    practitioner_id: int
    resource_id: int | None
    start: datetime
    end: datetime


def _held(
    practitioner_ids: list[int],
    resource_ids: list[int],
    range_start: datetime,
    range_end: datetime,
    *,
    except_patient_id: int | None = None,
) -> list[Hold]:
    """Spans held for waiting-list offers that are open and not yet expired (the appointment
    and its buffer, with its room): busy for everyone but the patients they were offered to
    (one time may be offered to several; docs/messages.md). One plain query: holds are few."""
    rows = (
        WaitlistOffer.objects.filter(
            Q(practitioner_id__in=practitioner_ids) | Q(resource_id__in=resource_ids),
            status=OfferStatus.OPEN,
            expires_at__gt=timezone.now(),
            start__lt=range_end,
            end__gt=range_start,
        )
        .values_list("practitioner_id", "resource_id", "start", "end", "entry__patient_id")
        .order_by()
    )
    held = list(rows)
    offered_to_patient = {
        (practitioner, start)
        for practitioner, _, start, _, patient in held
        if patient == except_patient_id
    }
    return [
        Hold(practitioner, resource, start, end)
        for practitioner, resource, start, end, _ in held
        if (practitioner, start) not in offered_to_patient
    ]


def _windows_for(
    query: SlotQuery, practitioner_ids: list[int]
) -> dict[tuple[int, int], list[Interval]]:
    site_ids = [site.pk for site in query.sites]
    patterns = WorkingPattern.objects.filter(
        practitioner_id__in=practitioner_ids,
        site__services=query.service,
        valid_from__lte=query.date_to,
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=query.date_from))
    if site_ids:
        patterns = patterns.filter(site_id__in=site_ids)
    exceptions = ScheduleException.objects.filter(
        practitioner_id__in=practitioner_ids, date__gte=query.date_from, date__lte=query.date_to
    )
    leave = Leave.objects.filter(
        practitioner_id__in=practitioner_ids,
        start_date__lte=query.date_to,
        end_date__gte=query.date_from,
    )
    return working_windows(
        query,
        patterns=list(patterns),
        exceptions=list(exceptions),
        leave=list(leave),
        offered=set(query.service.sites.values_list("pk", flat=True)),
        site_ids=site_ids,
    )


def slots_search(query: SlotQuery, *, not_before: datetime | None = None) -> list[Slot]:
    """Every free slot matching the search, earliest first."""
    schedule = ServiceSchedule.objects.filter(service=query.service).first()
    if schedule is None:
        return []
    practitioners = Practitioner.objects.filter(services=query.service, is_active=True)
    if query.practitioner is not None:
        practitioners = practitioners.filter(pk=query.practitioner.pk)
    practitioner_ids = list(practitioners.values_list("pk", flat=True))
    windows = _windows_for(query, practitioner_ids)
    resources_by_site = _resources_by_site(schedule)
    all_resources = [pk for ids in resources_by_site.values() for pk in ids]
    busy, occupancy = _busy_time(query, practitioner_ids, all_resources)
    buffer = timedelta(minutes=schedule.buffer_minutes)
    service_id = query.service.pk
    slots: list[Slot] = []
    for (practitioner_id, site_id), site_windows in windows.items():
        found = free_slots(
            site_windows,
            busy=busy.get(practitioner_id, []),
            duration_min=schedule.duration_minutes,
            buffer_min=schedule.buffer_minutes,
            step_min=settings.SLOT_STEP_MINUTES,
            not_before=not_before,
        )
        candidates = resources_by_site.get(site_id, [])
        for interval in found:
            room: int | None = None
            if schedule.resource_kind:
                room = _free_resource(candidates, occupancy, interval.start, interval.end + buffer)
                if room is None:
                    continue
            slots.append(
                Slot(interval.start, interval.end, practitioner_id, site_id, service_id, room)
            )
    return sorted(slots, key=_slot_order)


def working_windows(
    query: SlotQuery,
    *,
    patterns: list[WorkingPattern],
    exceptions: list[ScheduleException],
    leave: list[Leave],
    offered: set[int],
    site_ids: list[int],
) -> dict[tuple[int, int], list[Interval]]:
    """Working windows per (practitioner, site): weekly patterns and extra sessions, less
    unavailable hours and whole days of leave."""
    tz = clinic_tz()
    windows: dict[tuple[int, int], list[Interval]] = defaultdict(list)
    away = {
        (entry.practitioner_id, day)
        for entry in leave
        for day in _span(entry.start_date, entry.end_date)
    }
    unavailable: dict[tuple[int, date], list[Interval]] = defaultdict(list)
    for exception in exceptions:
        window = local_window(exception.date, exception.start_time, exception.end_time, tz=tz)
        if exception.kind == ScheduleException.Kind.UNAVAILABLE:
            unavailable[(exception.practitioner_id, exception.date)].append(window)
        elif exception.site_id in offered and (not site_ids or exception.site_id in site_ids):
            windows[(exception.practitioner_id, exception.site_id)].append(window)
    for day in _days(query):
        for pattern in patterns:
            if pattern.weekday != day.weekday() or pattern.valid_from > day:
                continue
            if pattern.valid_until is not None and pattern.valid_until < day:
                continue
            window = local_window(day, pattern.start_time, pattern.end_time, tz=tz)
            windows[(pattern.practitioner_id, pattern.site_id)].append(window)
    result: dict[tuple[int, int], list[Interval]] = {}
    for (practitioner_id, site_id), site_windows in windows.items():
        kept = [
            window
            for window in site_windows
            if (practitioner_id, window.start.astimezone(tz).date()) not in away
        ]
        blocks = [
            block
            for window in kept
            for block in unavailable.get((practitioner_id, window.start.astimezone(tz).date()), [])
        ]
        result[(practitioner_id, site_id)] = subtract(kept, blocks) if blocks else kept
    return result


def _span(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def first_available(
    *,
    service: Service,
    sites: tuple[Site, ...] = (),
    practitioner: Practitioner | None = None,
    days: int = 62,
    moving: Appointment | None = None,
) -> Slot | None:
    """The earliest free slot from now, searching ``days`` ahead a week at a time
    (``moving``: the appointment being moved; see other_times)."""
    now = timezone.now()
    today = now.astimezone(clinic_tz()).date()
    start = today
    while start <= today + timedelta(days=days):
        end = min(start + timedelta(days=6), today + timedelta(days=days))
        query = SlotQuery(
            service=service,
            date_from=start,
            date_to=end,
            sites=sites,
            practitioner=practitioner,
            exclude_appointment_id=moving.pk if moving else None,
        )
        found = other_times(slots_search(query, not_before=now), moving)
        if found:
            return found[0]
        start = end + timedelta(days=1)
    return None


def other_times(slots: list[Slot], moving: Appointment | None) -> list[Slot]:
    """Slots for moving an appointment: searched as if it were gone (so the times around it
    are offered), less its own time with its own practitioner and site."""
    if moving is None:
        return slots
    return [
        slot
        for slot in slots
        if (slot.start, slot.practitioner_id, slot.site_id)
        != (moving.start, moving.practitioner_id, moving.site_id)
    ]


def sessions_on(
    *, practitioner: Practitioner, site: Site, day: date, service: Service
) -> list[Interval]:
    """The practitioner's working windows at the site on one day (an overbook must fall in
    one: it ignores other appointments, never working hours)."""
    query = SlotQuery(service=service, date_from=day, date_to=day, sites=(site,))
    windows = working_windows(
        query,
        patterns=list(WorkingPattern.objects.filter(practitioner=practitioner, site=site)),
        exceptions=list(ScheduleException.objects.filter(practitioner=practitioner, date=day)),
        leave=list(
            Leave.objects.filter(practitioner=practitioner, start_date__lte=day, end_date__gte=day)
        ),
        offered={site.pk},
        site_ids=[site.pk],
    )
    return windows.get((practitioner.pk, site.pk), [])


@dataclass(frozen=True)
class SlotCheck:
    """One time checked: whether it is a bookable time at all (in a session, on its grid),
    the free slot if nothing else holds it, and whether the patient is busy then."""

    bookable_time: bool
    slot: Slot | None
    patient_busy: bool = False
    session_end: datetime | None = None


def slot_check(
    *,
    service: Service,
    schedule: ServiceSchedule,
    practitioner: Practitioner,
    site: Site,
    start: datetime,
    exclude_appointment_id: int | None = None,
    resource_ids: list[int] | None = None,
    patient_id: int | None = None,
) -> SlotCheck:
    """The same rules as slots_search (in a session, on its grid, clear of other appointments
    and their buffers, a resource free) for one time, with a handful of queries. Call inside
    the booking lock; ``resource_ids`` are the candidate resources if already fetched."""
    length = timedelta(minutes=schedule.duration_minutes)
    blocked = length + timedelta(minutes=schedule.buffer_minutes)
    step = timedelta(minutes=settings.SLOT_STEP_MINUTES)
    day = start.astimezone(clinic_tz()).date()
    sessions = sessions_on(practitioner=practitioner, site=site, day=day, service=service)
    # Any session containing the time whose grid it is on (sessions can overlap).
    window = next(
        (
            w
            for w in sessions
            if w.start <= start and start + length <= w.end and not (start - w.start) % step
        ),
        None,
    )
    if window is None:
        return SlotCheck(bookable_time=False, slot=None)
    span = Interval(start, min(start + blocked, window.end))
    candidates = list(resource_ids) if resource_ids is not None else []
    if schedule.resource_kind and resource_ids is None:
        candidates = list(_resources_by_site(schedule).get(site.pk, []))
    # One query for everything that could clash: the practitioner's appointments, the
    # candidate resources' and the patient's, over the widest span that matters.
    nearby = Appointment.objects.filter(
        Q(practitioner=practitioner) | Q(resource_id__in=candidates) | Q(patient_id=patient_id),
        status=AppointmentStatus.BOOKED,
        start__lt=start + blocked,
        blocked_until__gt=start,
    )
    if exclude_appointment_id is not None:
        nearby = nearby.exclude(pk=exclude_appointment_id)
    rows = list(
        nearby.values_list(
            "practitioner_id", "resource_id", "patient_id", "start", "end", "blocked_until"
        )
    )
    patient_busy = any(
        row[2] == patient_id and row[3] < start + length and row[4] > start for row in rows
    )
    holds = _held([practitioner.pk], candidates, span.start, span.end, except_patient_id=patient_id)
    clash = any(
        row[0] == practitioner.pk and row[3] < span.end and row[5] > span.start for row in rows
    ) or any(hold.practitioner_id == practitioner.pk for hold in holds)
    if clash:
        return SlotCheck(
            bookable_time=True, slot=None, patient_busy=patient_busy, session_end=window.end
        )
    resource_id: int | None = None
    if schedule.resource_kind:
        taken = {row[1] for row in rows if row[1] is not None}
        taken |= {hold.resource_id for hold in holds if hold.resource_id is not None}
        resource_id = next((pk for pk in sorted(candidates) if pk not in taken), None)
        if resource_id is None:
            return SlotCheck(
                bookable_time=True, slot=None, patient_busy=patient_busy, session_end=window.end
            )
    slot = Slot(start, start + length, practitioner.pk, site.pk, service.pk, resource_id)
    return SlotCheck(
        bookable_time=True, slot=slot, patient_busy=patient_busy, session_end=window.end
    )


def slot_if_free(
    *,
    service: Service,
    schedule: ServiceSchedule,
    practitioner: Practitioner,
    site: Site,
    start: datetime,
    exclude_appointment_id: int | None = None,
) -> Slot | None:
    """The slot starting at ``start`` if it is free (see slot_check)."""
    return slot_check(
        service=service,
        schedule=schedule,
        practitioner=practitioner,
        site=site,
        start=start,
        exclude_appointment_id=exclude_appointment_id,
    ).slot
