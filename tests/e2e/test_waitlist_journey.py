"""The waiting list in a real browser: a patient joins it, a time frees, and they accept the
offered time from the link in the email they were sent."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from playwright.sync_api import Page, expect

from clinic.audit.services import AuditContext
from clinic.demo import data
from clinic.directory.models import Practitioner, Service, Site
from clinic.scheduling import availability, services
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import Appointment, WaitlistOffer
from tests import factories


def _free_a_toxin_time() -> Appointment:
    """Someone else (made up) books the first toxin clinic time, then reception cancels it."""
    service = Service.objects.get(slug="botulinum-toxin-clinic")
    slot = availability.first_available(service=service, sites=())
    assert slot is not None
    reception = factories.user(role="reception")
    reception.is_verified = lambda: True
    context = AuditContext(actor=reception)
    booked = services.appointment_book(
        context=context,
        request=services.BookingRequest(
            patient=factories.patient(family_name="Othertest"),
            service=service,
            practitioner=Practitioner.objects.get(pk=slot.practitioner_id),
            site=Site.objects.get(pk=slot.site_id),
            start=slot.start,
        ),
    )
    return services.appointment_cancel(
        context=context, appointment_id=booked.pk, reason="Patient unwell (made up)"
    )


def test_a_waiting_patient_accepts_an_offered_time_from_the_email_link(
    page: Page, demo_site, settings, screenshot_dir
):
    settings.SITE_URL = demo_site
    page.goto(demo_site + "/accounts/sign-in/")
    page.get_by_label("Email address").fill(data.DEMO_PATIENT_EMAIL)
    page.get_by_label("Password").fill(data.DEMO_PATIENT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Waiting list for an earlier time").click()
    page.get_by_role("link", name="Join the waiting list").click()
    page.get_by_label("Botulinum toxin clinic").check()
    page.get_by_label("From").fill(local_today().isoformat())
    page.get_by_label("Until").fill((local_today() + timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Join the waiting list").click()
    expect(page.get_by_role("status")).to_contain_text("You are on the waiting list")
    expect(page.locator("table")).to_contain_text("Botulinum toxin clinic")

    freed = _free_a_toxin_time()

    offers = [m for m in mail.outbox if m.subject.startswith("An earlier appointment is free")]
    assert len(offers) == 1
    offer_email = offers[0]
    link = next(line for line in offer_email.body.splitlines() if "/appointments/offers/" in line)
    page.goto(link.strip())
    expect(page.get_by_role("heading", level=1)).to_have_text("An earlier appointment")
    local = freed.start.astimezone(availability.clinic_tz())
    expect(page.locator("main")).to_contain_text(local.strftime("%H:%M"))
    expect(page.locator("main")).to_contain_text("held for you until")
    page.screenshot(path=screenshot_dir / "waitlist-offer.png", full_page=True)
    page.get_by_role("button", name="Accept this appointment").click()

    expect(page.get_by_role("status")).to_contain_text("Booked. We have emailed you the details.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Botulinum toxin clinic")
    expect(page.locator("main")).to_contain_text("Booked")
    offer = WaitlistOffer.objects.get(entry__patient__user__email=data.DEMO_PATIENT_EMAIL)
    assert offer.status == "accepted"
    assert offer.appointment.start == freed.start
