"""A small made-up calendar: one site, an injection service needing an injection room, one
practitioner working every day 09:00-12:00 (Europe/London)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.directory.models import Practitioner, Service, Site
from clinic.records.models import Patient
from clinic.scheduling.models import Resource, ServiceSchedule, WorkingPattern
from tests import factories

LONDON = ZoneInfo("Europe/London")


@dataclass
class Calendar:
    site: Site
    service: Service
    practitioner: Practitioner
    resource: Resource
    patient: Patient

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A local time in London as an aware datetime."""
        return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def next_weekday(weekday: int, *, weeks_ahead: int = 1) -> date:
    """A date at least a few days ahead (clear of the cancellation cut-off)."""
    today = timezone.now().astimezone(LONDON).date()
    day = today + timedelta(days=7 * weeks_ahead)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


@pytest.fixture
def calendar(db, patient_user):
    site = factories.site(slug="test-site")
    service = factories.service(slug="toxin", name="Toxin clinic")
    site.services.add(service)
    ServiceSchedule.objects.create(
        service=service, duration_minutes=30, buffer_minutes=10, resource_kind="injection_room"
    )
    resource = Resource.objects.create(site=site, name="Injection room 1", kind="injection_room")
    practitioner = factories.practitioner(slug="dr-test", sites=[site], services=[service])
    for weekday in range(7):
        WorkingPattern.objects.create(
            practitioner=practitioner,
            site=site,
            weekday=weekday,
            start_time=time(9),
            end_time=time(12),
            valid_from=date(2026, 1, 1),
        )
    return Calendar(site, service, practitioner, resource, patient_user.patient_record)
