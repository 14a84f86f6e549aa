"""iCalendar (RFC 5545) documents, built with the icalendar library: the attachment that
tells a patient about one appointment, and a practitioner's private feed (docs/booking.md,
"Calendar feeds").

Times are written in the clinic's zone with a TZID and a VTIMEZONE generated from the zone
database, so 09:00 stays 09:00 on either side of the clock changes. The one local time a
TZID cannot name (the second 01:xx on the October change day) is written in UTC instead.
These builders read only what they are given: the caller fetches the rows (with
select_related) and checks access.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, Timezone, vCalAddress
from icalendar.enums import CLASS, STATUS, TRANSP

from clinic.directory.models import Practitioner
from clinic.scheduling.availability import clinic_tz
from clinic.scheduling.models import Appointment

PRODID = "-//Dystonia Clinic//Appointments//EN"
# A calendar client may fetch a feed this often; most treat it as a hint.
FEED_REFRESH = timedelta(minutes=15)
UID_FALLBACK_DOMAIN = "dystonia-clinic.invalid"


def _site_url() -> str:
    # SITE_URL is where links in emails start; without it events carry no link.
    return str(settings.SITE_URL).rstrip("/")


def appointment_uid(appointment: Appointment) -> str:
    """The event's UID: the same for the life of the appointment (every change and the
    cancellation update the same event), unique to this installation by its host name."""
    domain = urlsplit(_site_url()).hostname or UID_FALLBACK_DOMAIN
    return f"appointment-{appointment.pk}@{domain}"


def _when(moment: datetime) -> datetime:
    """The time in the clinic's zone, or in UTC when the local time is ambiguous: RFC 5545
    reads an ambiguous DTSTART;TZID as the first occurrence, which the second is not."""
    local = moment.astimezone(clinic_tz())
    return moment.astimezone(UTC) if local.fold else local


def _calendar(*, method: str, name: str = "") -> Calendar:
    # A fixed calendar UID: the library would otherwise make a random one per document.
    calendar = Calendar.new(prodid=PRODID, method=method, uid=f"{PRODID}/{name or method}")
    if name:
        calendar.calendar_name = name  # NAME and X-WR-CALNAME
    return calendar


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of a zone over whole years. Generating it from the zone database is
    the slowest part of building a calendar, so each is made once per process; calendars
    only read it."""
    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


def _add_timezones(calendar: Calendar, appointments: list[Appointment]) -> bytes:
    """The VTIMEZONE for the clinic's zone, covering the years of the events, then the
    document's bytes."""
    if appointments:
        years = [a.start.astimezone(clinic_tz()).year for a in appointments]
        for position, tzid in enumerate(sorted(calendar.get_missing_tzids())):
            calendar.subcomponents.insert(position, _vtimezone(tzid, min(years), max(years)))
    document: bytes = calendar.to_ical()
    return document


def _location(appointment: Appointment) -> str:
    site = appointment.site
    return f"{site.name}, {site.full_address}"


def _detail_url(appointment: Appointment) -> str:
    base = _site_url()
    if not base:
        return ""
    return base + reverse("scheduling:detail", args=[appointment.pk])


def _organizer_and_attendee(event: Event, appointment: Appointment) -> None:
    """iTIP (RFC 5546) asks a REQUEST or CANCEL for an organizer and an attendee: the clinic
    from its sending address, the patient by email alone (no name), with no reply asked."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if address:
        event.add("ORGANIZER", vCalAddress.new(address, cn=name or settings.CLINIC_NAME))
    email = appointment.patient.contact_email
    if email:
        attendee = vCalAddress.new(email, role="REQ-PARTICIPANT", partstat="ACCEPTED", rsvp=False)
        event.add("ATTENDEE", attendee)


def _patient_description(appointment: Appointment, *, cancelled: bool) -> str:
    site = appointment.site
    lines = [f"With {appointment.practitioner.display_name}."]
    if cancelled:
        lines = ["This appointment has been cancelled.", *lines]
    url = _detail_url(appointment)
    if not cancelled and url:
        lines.append(f"To move or cancel it, sign in at {url}")
    lines.append(f"Or telephone {site.name} on {site.telephone}.")
    return "\n".join(lines)


def appointment_calendar(
    appointment: Appointment, *, cancelled: bool = False, sequence: int = 0
) -> bytes:
    """An iTIP calendar (METHOD REQUEST, or CANCEL when ``cancelled``) with the one event of
    this appointment, for the patient's own calendar: the service, the site, the practitioner
    and how to change it, nothing clinical. ``sequence`` counts the changes since booking, so
    a calendar app replaces its copy of the event (same UID) with the newer one.

    >>> appointment_calendar(appointment, sequence=1)  # doctest: +SKIP
    b'BEGIN:VCALENDAR\\r\\nVERSION:2.0\\r\\n...METHOD:REQUEST...'
    """
    calendar = _calendar(method="CANCEL" if cancelled else "REQUEST")
    event = Event.new(
        uid=appointment_uid(appointment),
        stamp=timezone.now(),
        start=_when(appointment.start),
        end=_when(appointment.end),
        summary=f"{appointment.service.name}, {settings.CLINIC_NAME}",
        location=_location(appointment),
        description=_patient_description(appointment, cancelled=cancelled),
        sequence=sequence,
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        transparency=TRANSP.OPAQUE,
        url=_detail_url(appointment) or None,
    )
    _organizer_and_attendee(event, appointment)
    calendar.add_component(event)
    return _add_timezones(calendar, [appointment])


def _feed_event(appointment: Appointment, stamp: datetime) -> Event:
    """One appointment in a practitioner's feed: the service and the hospital number only,
    never the name, date of birth or anything clinical (the feed is read without a login)."""
    patient = appointment.patient
    notes = [f"Hospital number {patient.hospital_number}."]
    if appointment.resource is not None:
        notes.append(f"Room: {appointment.resource.name}.")
    if appointment.overbooked:
        notes.append("Overbooked.")
    notes.append(f"Sign in to {settings.CLINIC_NAME} for the patient's details.")
    return Event.new(
        uid=appointment_uid(appointment),
        stamp=stamp,
        last_modified=appointment.updated_at,
        start=_when(appointment.start),
        end=_when(appointment.end),
        summary=f"{appointment.service.name}: {patient.hospital_number}",
        location=_location(appointment),
        description="\n".join(notes),
        status=STATUS.CONFIRMED,
        transparency=TRANSP.OPAQUE,
        classification=CLASS.PRIVATE,
        url=_detail_url(appointment) or None,
    )


def practitioner_feed(practitioner: Practitioner, appointments: Iterable[Appointment]) -> bytes:
    """A published calendar (METHOD PUBLISH) of the given appointments, one event each, for
    a calendar app subscribed to the practitioner's private feed. The caller chooses the
    appointments (calendar_feeds.feed_appointments: no cancelled ones) and fetches their
    patient, service, site and resource with them."""
    listed = list(appointments)
    calendar = _calendar(method="PUBLISH", name=f"Appointments: {practitioner.display_name}")
    calendar.add("REFRESH-INTERVAL", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", f"PT{int(FEED_REFRESH.total_seconds()) // 60}M")
    stamp = timezone.now()
    for appointment in listed:
        calendar.add_component(_feed_event(appointment, stamp))
    return _add_timezones(calendar, listed)
