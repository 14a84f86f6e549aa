"""Encounters in a real browser: the demo clinician opens today's clinic, starts the
encounter from a (made-up) appointment, writes and saves notes, signs them after the
confirmation, finds them locked, and adds an addendum that is then listed."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.accounts.models import User
from clinic.demo import data
from clinic.directory.models import Practitioner, Service, Site
from clinic.records.models import Encounter, Patient
from clinic.scheduling.availability import clinic_tz, local_today
from clinic.scheduling.models import Appointment
from tests.e2e.journeys import sign_in_staff

NOTES = "Head turns to the left, worse when walking. Plan: toxin to right sternocleidomastoid."
ADDENDUM = "Toxin batch number added afterwards: made-up batch 12345."


def _appointment_today() -> Appointment:
    """Patricia Demo with Dr Amara Okafor today, begun up to half an hour ago (never before
    midnight, so it is always today's)."""
    midnight = datetime.combine(local_today(), time(0), tzinfo=clinic_tz())
    now = timezone.now().replace(second=0, microsecond=0)
    start = max(midnight, now - timedelta(minutes=30))
    return Appointment.objects.create(
        patient=Patient.objects.get(hospital_number=data.DEMO_PATIENTS[0][4]),
        practitioner=Practitioner.objects.get(slug=data.DEMO_STAFF[1][4]),
        site=Site.objects.get(slug="london-neurosurgery-partnership"),
        service=Service.objects.get(slug="botulinum-toxin-clinic"),
        start=start,
        end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40),
        booked_by=User.objects.get(email=data.DEMO_STAFF[0][0]),
    )


def test_a_clinician_sees_signs_and_adds_to_an_encounter_from_todays_clinic(
    page: Page, demo_site, screenshot_dir
):
    appointment = _appointment_today()
    sign_in_staff(page, demo_site, data.DEMO_STAFF[1][0], data.DEMO_STAFF[1][1])

    page.get_by_role("link", name="Today's clinic").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Today's clinic")
    row = page.locator("tbody tr", has_text="Patricia Demo")
    expect(row).to_contain_text("Botulinum toxin clinic")
    expect(row).to_contain_text("Not started")
    page.screenshot(path=screenshot_dir / "clinic-today.png", full_page=True)

    row.get_by_role("link", name="Start").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Start an encounter with Patricia Demo"
    )
    expect(page.get_by_role("region", name="Alerts")).to_contain_text("No known allergies")
    expect(page.get_by_label("Botulinum toxin clinic")).to_be_checked()
    page.get_by_role("button", name="Start encounter").click()
    expect(page.get_by_role("status")).to_contain_text("Encounter started")

    page.get_by_role("textbox", name="Notes").fill(NOTES)
    page.get_by_role("button", name="Save notes").click()
    expect(page.get_by_role("status")).to_contain_text("Notes saved")
    expect(page.get_by_role("textbox", name="Notes")).to_have_value(NOTES)

    page.get_by_role("button", name="Save and sign").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign this encounter?")
    expect(page.locator("main")).to_contain_text(NOTES)
    page.get_by_role("button", name="Sign and lock").click()

    expect(page.get_by_role("status")).to_contain_text("Encounter signed and locked")
    expect(page.locator("main")).to_contain_text("Signed and locked by Amara Okafor")
    expect(page.locator("main")).to_contain_text(NOTES)
    expect(page.get_by_role("button", name="Save notes")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Notes")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "encounter-signed.png", full_page=True)

    page.get_by_role("link", name="Add an addendum").click()
    page.get_by_role("textbox", name="Addendum").fill(ADDENDUM)
    page.get_by_role("button", name="Add addendum").click()
    expect(page.get_by_role("status")).to_contain_text("Addendum added")
    addenda = page.get_by_role("region", name="Addenda")
    expect(addenda).to_contain_text(ADDENDUM)
    expect(addenda).to_contain_text("Amara Okafor")
    page.screenshot(path=screenshot_dir / "encounter-addendum.png", full_page=True)

    page.get_by_role("link", name="Today's clinic").first.click()
    row = page.locator("tbody tr", has_text="Patricia Demo")
    expect(row).to_contain_text("Signed")
    expect(row.get_by_role("link", name="Open")).to_be_visible()

    encounter = Encounter.objects.get(appointment=appointment)
    assert encounter.notes == NOTES
    assert encounter.is_signed
    assert [a.text for a in encounter.addenda.all()] == [ADDENDUM]
