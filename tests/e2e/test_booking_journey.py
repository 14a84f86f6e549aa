"""Booking in a real browser: a patient books the first available botulinum toxin clinic slot
at any site, moves it, and reception sees the change in the day view."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from clinic.demo import data
from clinic.scheduling.availability import clinic_tz
from clinic.scheduling.models import Appointment
from tests.e2e.journeys import sign_in, sign_in_staff


def test_book_the_first_toxin_slot_move_it_and_reception_sees_it(
    page: Page, demo_site, settings, screenshot_dir
):
    settings.CANCELLATION_CUTOFF_HOURS = 0  # the first slot may be tomorrow morning
    sign_in(page, demo_site, data.DEMO_PATIENT_EMAIL, data.DEMO_PATIENT_PASSWORD)
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_label("Botulinum toxin clinic").check()
    page.get_by_label("Site").select_option(label="Any site")
    page.get_by_role("button", name="Show times").click()

    expect(page.get_by_role("heading", name="First available time")).to_be_visible()
    page.screenshot(path=screenshot_dir / "booking-first-available.png", full_page=True)
    page.locator(".slot-list a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointment")
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked")
    appointment = Appointment.objects.get(patient__user__email=data.DEMO_PATIENT_EMAIL)
    first_start = appointment.start

    page.get_by_role("link", name="Move to another time").click()
    page.get_by_role("button", name="Show times").click()
    expect(page.locator(".notice")).to_contain_text("Now booked: Botulinum toxin clinic")
    expect(page.locator(".notice")).to_contain_text("stays booked until you confirm")
    # A move keeps its service: it is not offered as a choice.
    expect(page.get_by_label("Botulinum toxin clinic")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "booking-move.png", full_page=True)
    page.locator(".slot-list a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the new time")
    page.get_by_role("button", name="Move to this time").click()
    expect(page.get_by_role("status")).to_contain_text("Your appointment has been moved")
    appointment.refresh_from_db()
    assert appointment.start != first_start
    expect(page.locator("main")).to_contain_text("Rescheduled")
    page.get_by_role("button", name="Sign out").click()

    reception_email, reception_password = data.DEMO_STAFF[0][0], data.DEMO_STAFF[0][1]
    sign_in_staff(page, demo_site, reception_email, reception_password)
    page.get_by_role("link", name="Calendar").click()
    page.get_by_label("Site").select_option(value=appointment.site.slug)
    local = appointment.start.astimezone(clinic_tz())
    page.get_by_label("Date").fill(local.date().isoformat())
    page.get_by_role("button", name="Show").click()

    item = page.locator(".calendar-item", has_text="Patricia Demo")
    expect(item).to_contain_text(local.strftime("%H:%M"))
    expect(item).to_contain_text("Botulinum toxin clinic")
    page.screenshot(path=screenshot_dir / "day-view.png", full_page=True)


def test_a_patient_on_a_phone_books_and_cancels_from_the_keyboard(
    page: Page, demo_site, settings, screenshot_dir
):
    settings.CANCELLATION_CUTOFF_HOURS = 0  # the first slot may be tomorrow morning
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(demo_site + "/accounts/sign-in/")
    page.get_by_label("Email address").fill(data.DEMO_PATIENT_EMAIL)
    page.get_by_label("Password").fill(data.DEMO_PATIENT_PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.get_by_role("link", name="Book an appointment").press("Enter")

    page.get_by_label("Botulinum toxin clinic").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Show times").press("Enter")
    expect(page.get_by_role("heading", name="First available time")).to_be_visible()
    # No sideways scrolling on a phone, and the time is a large enough target.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    first_time = page.locator(".slot-list a").first
    box = first_time.bounding_box()
    assert box is not None
    assert box["height"] >= 44
    first_time.press("Enter")
    page.get_by_role("button", name="Book this appointment").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked")
    page.screenshot(path=screenshot_dir / "booking-phone.png", full_page=True)

    page.get_by_label("Why are you cancelling?").fill("Made-up reason: on holiday")
    page.get_by_label("Why are you cancelling?").press("Enter")

    expect(page.get_by_role("status")).to_contain_text("The appointment is cancelled")
    expect(page.locator("main")).to_contain_text("Made-up reason: on holiday")
    assert Appointment.objects.get(patient__user__email=data.DEMO_PATIENT_EMAIL).status == (
        "cancelled"
    )
