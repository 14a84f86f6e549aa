"""A calendar feed in a real browser: a clinician creates a private feed, a calendar app's
fetch of its address parses, and once revoked the address answers 404."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Page, expect

from clinic.accounts.models import User
from clinic.demo import data
from clinic.directory.models import Service
from clinic.records.models import Patient
from clinic.scheduling.models import Appointment
from tests.e2e.journeys import sign_in_staff


def _an_appointment_for(clinician: User) -> Appointment:
    """One booked appointment in the clinician's diary next week, with the demo patient."""
    practitioner = clinician.practitioner
    assert practitioner is not None
    patient = Patient.objects.get(hospital_number=data.DEMO_PATIENTS[0][4])
    start = (timezone.now() + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        site=practitioner.sites.first(),
        service=Service.objects.filter(practitioners=practitioner).first(),
        start=start,
        end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=30),
        booked_by=clinician,
    )


def test_a_clinician_creates_uses_and_revokes_a_calendar_feed(
    page: Page, demo_site, screenshot_dir
):
    email, password = data.DEMO_STAFF[1][0], data.DEMO_STAFF[1][1]
    appointment = _an_appointment_for(User.objects.get(email=email))
    sign_in_staff(page, demo_site, email, password)

    page.get_by_role("link", name="Calendar feeds", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar feeds")
    expect(page.locator("main")).to_contain_text("You have no feeds yet")
    page.get_by_role("button", name="Create a new feed").click()

    expect(page.get_by_role("heading", name="Your new feed address")).to_be_visible()
    expect(page.locator("main")).to_contain_text("it is shown only this once")
    expect(page.locator("main")).to_contain_text("Anyone who has this address can see")
    expect(page.get_by_role("heading", name="How to subscribe")).to_be_visible()
    expect(page.get_by_role("cell", name="Active")).to_be_visible()
    feed_url = page.locator("#feed-url").inner_text().strip()
    assert re.fullmatch(re.escape(demo_site) + r"/appointments/feeds/[\w-]{43}\.ics", feed_url)
    page.screenshot(path=screenshot_dir / "calendar-feed-created.png", full_page=True)

    fetched = page.request.get(feed_url)
    assert fetched.status == 200
    assert fetched.headers["content-type"] == "text/calendar; charset=utf-8"
    (event,) = Calendar.from_ical(fetched.body()).events
    assert event["SUMMARY"] == f"{appointment.service.name}: {data.DEMO_PATIENTS[0][4]}"
    assert b"Patricia" not in fetched.body()

    page.get_by_role("button", name=re.compile("^Revoke the feed created on")).click()
    expect(page.get_by_role("status")).to_contain_text("The feed is revoked")
    expect(page.get_by_role("cell", name=re.compile("^Revoked on"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Revoke"))).to_have_count(0)
    # The address is no longer on the page, and it no longer works.
    expect(page.locator("main")).not_to_contain_text(feed_url)
    page.screenshot(path=screenshot_dir / "calendar-feed-revoked.png", full_page=True)
    assert page.request.get(feed_url).status == 404
