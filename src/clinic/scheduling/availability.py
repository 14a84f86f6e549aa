"""Free slots for a search, computed from the scheduling facts with a fixed number of queries
whatever the number of appointments (the core does the arithmetic: dystonia.slots)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from clinic.directory.models import Practitioner, Service, Site
from clinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Leave,
    Resource,
    ScheduleException,
    ServiceSchedule,
    WorkingPattern,
)
from dystonia.slots import Interval, free_slots, local_window, subtract


@dataclass(frozen=True, order=True)
class Slot:
    """A bookable time: who, where, when, and the room or equipment it would use."""

    start: datetime
    end: datetime
    practitioner_id: int
    site_id: int
    service_id: int
    resource_id: int | None


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


def _busy_by(rows: Iterable[tuple[int, datetime, datetime]]) -> dict[int, list[Interval]]:
    busy: dict[int, list[Interval]] = defaultdict(list)
    for owner, start, until in rows:
        busy[owner].append(Interval(start, until))
    return busy


def slots_search(query: SlotQuery, *, not_before: datetime | None = None) -> list[Slot]:
    """Every free slot matching the search, earliest first."""
    schedule = ServiceSchedule.objects.filter(service=query.service).first()
    if schedule is None:
        return []
    range_start, range_end = _day_bounds(query)
    practitioners = Practitioner.objects.filter(services=query.service, is_active=True)
    if query.practitioner is not None:
        practitioners = practitioners.filter(pk=query.practitioner.pk)
    practitioner_ids = list(practitioners.values_list("pk", flat=True))
    patterns = WorkingPattern.objects.filter(
        practitioner_id__in=practitioner_ids,
        site__services=query.service,
        valid_from__lte=query.date_to,
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=query.date_from))
    exceptions = ScheduleException.objects.filter(
        practitioner_id__in=practitioner_ids, date__gte=query.date_from, date__lte=query.date_to
    )
    if query.sites:
        site_ids = [site.pk for site in query.sites]
        patterns = patterns.filter(site_id__in=site_ids)
    else:
        site_ids = []
    leave = Leave.objects.filter(
        practitioner_id__in=practitioner_ids,
        start_date__lte=query.date_to,
        end_date__gte=query.date_from,
    )
    appointments = Appointment.objects.filter(
        practitioner_id__in=practitioner_ids,
        status=AppointmentStatus.BOOKED,
        start__lt=range_end,
        blocked_until__gt=range_start,
    )
    if query.exclude_appointment_id is not None:
        appointments = appointments.exclude(pk=query.exclude_appointment_id)
    busy = _busy_by(appointments.values_list("practitioner_id", "start", "blocked_until"))
    resources_by_site: dict[int, list[int]] = defaultdict(list)
    resource_busy: dict[int, list[Interval]] = {}
    if schedule.resource_kind:
        for resource_pk, resource_site in Resource.objects.filter(
            kind=schedule.resource_kind, is_active=True
        ).values_list("pk", "site_id"):
            resources_by_site[resource_site].append(resource_pk)
        used = Appointment.objects.filter(
            resource_id__in=[r for ids in resources_by_site.values() for r in ids],
            status=AppointmentStatus.BOOKED,
            start__lt=range_end,
            blocked_until__gt=range_start,
        )
        if query.exclude_appointment_id is not None:
            used = used.exclude(pk=query.exclude_appointment_id)
        resource_busy = _busy_by(used.values_list("resource_id", "start", "blocked_until"))
    offered = set(query.service.sites.values_list("pk", flat=True))
    windows = working_windows(
        query,
        patterns=list(patterns),
        exceptions=list(exceptions),
        leave=list(leave),
        offered=offered,
        site_ids=site_ids,
    )
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
        for interval in found:
            resource_id: int | None = None
            if schedule.resource_kind:
                resource_id = _free_resource(
                    resources_by_site.get(site_id, []),
                    resource_busy,
                    Interval(
                        interval.start, interval.end + timedelta(minutes=schedule.buffer_minutes)
                    ),
                )
                if resource_id is None:
                    continue
            slots.append(
                Slot(
                    interval.start,
                    interval.end,
                    practitioner_id,
                    site_id,
                    query.service.pk,
                    resource_id,
                )
            )
    return sorted(slots)


def _free_resource(
    candidates: list[int], busy: dict[int, list[Interval]], span: Interval
) -> int | None:
    for resource_id in sorted(candidates):
        if not any(span.overlaps(block) for block in busy.get(resource_id, [])):
            return resource_id
    return None


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
) -> Slot | None:
    """The earliest free slot from now, searching ``days`` ahead a week at a time."""
    now = timezone.now()
    today = now.astimezone(clinic_tz()).date()
    start = today
    while start <= today + timedelta(days=days):
        end = min(start + timedelta(days=6), today + timedelta(days=days))
        query = SlotQuery(
            service=service, date_from=start, date_to=end, sites=sites, practitioner=practitioner
        )
        found = slots_search(query, not_before=now)
        if found:
            return found[0]
        start = end + timedelta(days=1)
    return None


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
