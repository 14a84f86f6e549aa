"""Accounts in a real browser: a patient signs up and verifies; a clinician uses a TOTP code;
a patient who edits the URL to another record is refused, and an admin finds that refusal."""

from __future__ import annotations

import re

from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from clinic.accounts.models import Role
from clinic.demo import data
from clinic.records.models import Patient
from tests import factories
from tests.e2e.journeys import sign_in

PASSWORD = "a long made-up passphrase"


def _code_for(email: str) -> str:
    device = TOTPDevice.objects.get(user__email=email, confirmed=True)
    return f"{totp(device.bin_key):06d}"


def test_a_patient_signs_up_verifies_signs_in_and_sees_their_home_page(
    page: Page, demo_site, screenshot_dir
):
    page.goto(demo_site + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Create an account").click()

    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Madeup")
    page.get_by_label("Date of birth").fill("14/02/1990")
    page.get_by_label("Email address").fill("nia@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    link = re.search(r"https?://[^/]+(/accounts/verify/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(demo_site + link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Email address confirmed")

    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_label("Email address").fill("nia@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Nia")
    hospital_number = Patient.objects.get(family_name="Madeup").hospital_number
    expect(page.locator("main")).to_contain_text(hospital_number)
    expect(page.get_by_role("link", name="See who has accessed your record")).to_be_visible()
    page.screenshot(path=screenshot_dir / "patient-home.png", full_page=True)


def test_a_clinician_signs_in_with_a_totp_code(page: Page, demo_site, screenshot_dir):
    email, password = data.DEMO_STAFF[1][0], data.DEMO_STAFF[1][1]
    sign_in(page, demo_site, email, password)

    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    page.screenshot(path=screenshot_dir / "two-factor.png", full_page=True)
    page.get_by_label("6-digit code").fill(_code_for(email))
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Today's clinic")
    page.get_by_role("link", name="Patients").click()
    expect(page.get_by_role("cell", name="Demo, Patricia")).to_be_visible()


def test_a_wrong_totp_code_is_refused_with_a_message(page: Page, demo_site):
    sign_in(page, demo_site, data.DEMO_STAFF[0][0], data.DEMO_STAFF[0][1])

    page.get_by_label("6-digit code").fill("12345x")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.get_by_label("6-digit code")).to_have_attribute("aria-invalid", "true")


def test_a_refused_url_edit_is_in_the_audit_log_an_admin_finds(page: Page, demo_site):
    other = Patient.objects.get(hospital_number=data.DEMO_PATIENTS[1][4])
    sign_in(page, demo_site, data.DEMO_PATIENT_EMAIL, data.DEMO_PATIENT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    page.goto(f"{demo_site}/records/patients/{other.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("main")).not_to_contain_text(other.family_name)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, demo_site, data.DEMO_ADMIN_EMAIL, data.DEMO_ADMIN_PASSWORD)
    page.get_by_label("6-digit code").fill(_code_for(data.DEMO_ADMIN_EMAIL))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    page.get_by_label("Outcome").select_option(label="Refused")
    page.get_by_label("Patient hospital number").fill(other.hospital_number)
    page.get_by_role("button", name="Search").click()

    table = page.locator("table")
    expect(table).to_contain_text(data.DEMO_PATIENT_EMAIL)
    expect(table).to_contain_text("Refused")
    expect(table).to_contain_text(f"/records/patients/{other.pk}/")


def test_the_inactivity_warning_can_be_answered(page: Page, demo_site, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 123
    settings.SESSION_EXPIRY_WARNING_SECONDS = 120
    user = factories.user(role=Role.PATIENT, password=PASSWORD)
    factories.patient(user=user)
    sign_in(page, demo_site, user.email, PASSWORD)

    dialog = page.get_by_role("dialog", name="Are you still there?")
    expect(dialog).to_be_visible(timeout=8_000)
    expect(page.get_by_role("button", name="Stay signed in")).to_be_focused()
    page.get_by_role("button", name="Stay signed in").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
