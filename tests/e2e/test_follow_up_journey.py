"""Open follow-up and unsent emails in a real browser: a clinician puts a patient on open
follow-up for a service the unit otherwise books itself, the patient books it from their home
page when they need it; reception sees an email that could not be sent and tries again."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from playwright.sync_api import Page, expect

from clinic.demo import data
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import Appointment, FollowUpStatus, Message, OpenFollowUp
from tests.e2e.journeys import sign_in, sign_in_staff, sign_out


def test_a_clinician_opens_follow_up_and_the_patient_books_it_when_needed(
    page: Page, demo_site, screenshot_dir
):
    clinician_email, clinician_password = data.DEMO_STAFF[1][0], data.DEMO_STAFF[1][1]
    sign_in_staff(page, demo_site, clinician_email, clinician_password)
    page.get_by_role("link", name="Patients").click()
    page.get_by_label("Name, hospital number or NHS number").fill("Demo")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Demo, Patricia").click()
    page.get_by_role("link", name="Open a follow-up").click()
    page.get_by_label("Service").select_option(label="DBS programming")
    page.get_by_label("Earliest date").fill(local_today().isoformat())
    page.get_by_label("Last date").fill((local_today() + timedelta(days=120)).isoformat())
    page.get_by_label("Note").fill("Book when the stimulation benefit wears off (made up)")
    page.get_by_role("button", name="Open follow-up").click()
    expect(page.get_by_role("status")).to_contain_text("can now book DBS programming online")
    follow_up = page.locator("section", has=page.get_by_role("heading", name="Open follow-up"))
    expect(follow_up).to_contain_text("DBS programming")
    expect(follow_up).to_contain_text("Open")
    sign_out(page)

    sign_in(page, demo_site, data.DEMO_PATIENT_EMAIL, data.DEMO_PATIENT_PASSWORD)
    section = page.get_by_role("region", name="Book when you need to")
    expect(section).to_contain_text("You can book a DBS programming appointment when you need one")
    page.screenshot(path=screenshot_dir / "follow-up-portal.png", full_page=True)
    section.get_by_role("link", name="Book now").click()
    expect(page.get_by_label("DBS programming")).to_be_checked()
    page.get_by_role("button", name="Show times").click()
    expect(page.get_by_role("heading", name="First available time")).to_be_visible()
    page.locator(".slot-list a").first.click()
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked")
    expect(page.get_by_role("heading", level=1)).to_have_text("DBS programming")

    used = OpenFollowUp.objects.get(patient__user__email=data.DEMO_PATIENT_EMAIL)
    assert used.status == FollowUpStatus.USED
    assert used.appointment == Appointment.objects.get(service__slug="dbs-programming")
    page.goto(demo_site + "/my/")
    expect(page.get_by_role("heading", name="Book when you need to")).to_have_count(0)


def test_reception_sees_an_unsent_email_and_tries_again(page: Page, demo_site, settings):
    settings.SITE_URL = demo_site
    sign_in(page, demo_site, data.DEMO_PATIENT_EMAIL, data.DEMO_PATIENT_PASSWORD)
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_label("Botulinum toxin clinic").check()
    page.get_by_role("button", name="Show times").click()
    page.locator(".slot-list a").first.click()
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.locator("main")).to_contain_text("Booking confirmation: Sent")
    sign_out(page)

    # Made up: the mail server refused the confirmation five times.
    Message.objects.filter(kind="confirmation").update(
        status="failed", attempts=5, last_error="SMTPRecipientsRefused: mailbox unavailable"
    )
    mail.outbox.clear()
    sign_in_staff(page, demo_site, data.DEMO_STAFF[0][0], data.DEMO_STAFF[0][1])
    page.get_by_role("link", name="Unsent emails").click()
    row = page.locator("tbody tr", has_text="Patricia Demo")
    expect(row).to_contain_text("Failed, needs attention")
    expect(row).to_contain_text("SMTPRecipientsRefused: mailbox unavailable")
    row.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("status")).to_contain_text("The message will be sent again.")
    expect(page.locator("main")).to_contain_text("Every message has been sent.")
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Your appointment is booked"]
