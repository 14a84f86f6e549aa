"""Steps the browser journeys share: signing in (with the second factor for staff) and out."""

from __future__ import annotations

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/accounts/sign-in/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def second_factor(page: Page, email: str) -> None:
    """Type the current code of the user's confirmed authenticator (the demo key)."""
    device = TOTPDevice.objects.get(user__email=email, confirmed=True)
    page.get_by_label("6-digit code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Continue").click()


def sign_in_staff(page: Page, base: str, email: str, password: str) -> None:
    sign_in(page, base, email, password)
    second_factor(page, email)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
