"""Sign in, lockout after repeated failures, safe redirects, sign out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from clinic.accounts.forms import WRONG_CREDENTIALS
from clinic.accounts.models import FailedSignIn, Role
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-made-up-password"


def _sign_in(client, email, password=PASSWORD, **extra):
    return client.post(
        "/accounts/sign-in/",
        {"email": email, "password": password} | extra,
        **extra.pop("meta", {}),
    )


def test_a_patient_signs_in_and_lands_on_their_record(client, patient_user):
    response = _sign_in(client, patient_user.email)

    assert response.status_code == 302
    assert client.get(response.headers["Location"]).headers["Location"] == "/my/"


def test_email_is_not_case_sensitive(client, patient_user):
    assert _sign_in(client, patient_user.email.upper()).status_code == 302


def test_a_wrong_password_gets_a_clear_message(client, patient_user):
    response = _sign_in(client, patient_user.email, "wrong")

    assert response.status_code == 400
    assert WRONG_CREDENTIALS in response.content.decode()


@override_settings(SIGN_IN_LOCKOUT_PER_ACCOUNT=3)
def test_the_account_locks_after_repeated_failures_even_with_the_right_password(
    client, patient_user
):
    for _ in range(3):
        _sign_in(client, patient_user.email, "wrong")

    response = _sign_in(client, patient_user.email)

    assert response.status_code == 400
    assert "Too many failed sign-ins for this account" in response.content.decode()
    assert "reset your password" in response.content.decode()


@override_settings(SIGN_IN_LOCKOUT_PER_ADDRESS=4, SIGN_IN_LOCKOUT_PER_ACCOUNT=100)
def test_an_address_locks_after_failures_across_accounts(client, patient_user):
    for n in range(4):
        _sign_in(client, f"guess{n}@example.org", "wrong")

    response = _sign_in(client, patient_user.email)

    assert "Too many failed sign-ins from this network" in response.content.decode()


@override_settings(SIGN_IN_LOCKOUT_PER_ACCOUNT=3, SIGN_IN_LOCKOUT_WINDOW_SECONDS=60)
def test_old_failures_expire(client, patient_user):
    for _ in range(3):
        FailedSignIn.objects.create(
            email=patient_user.email, at=timezone.now() - timedelta(minutes=5)
        )

    assert _sign_in(client, patient_user.email).status_code == 302


def test_a_successful_sign_in_clears_the_accounts_failures(client, patient_user):
    _sign_in(client, patient_user.email, "wrong")

    _sign_in(client, patient_user.email)

    assert not FailedSignIn.objects.filter(email=patient_user.email).exists()


def test_an_inactive_account_cannot_sign_in(client):
    user = factories.user(is_active=False)

    assert _sign_in(client, user.email).status_code == 400


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": "x@example.org"},
        {"email": "not an email", "password": "x"},
        {"email": "x" * 300 + "@example.org", "password": "x"},
        {"email": "x@example.org", "password": "p" * 1000},
        {"email": "<script>@example.org", "password": "x"},
    ],
)
def test_malformed_sign_ins_are_refused_without_a_500(client, db, data):
    response = client.post("/accounts/sign-in/", data)

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


@pytest.mark.parametrize(
    "target", ["https://evil.example.com/", "//evil.example.com/", "javascript:alert(1)"]
)
def test_next_never_leaves_the_site(client, patient_user, target):
    response = client.post(
        "/accounts/sign-in/", {"email": patient_user.email, "password": PASSWORD, "next": target}
    )

    assert response.headers["Location"] == "/accounts/"


def test_staff_are_sent_to_the_second_factor_after_the_password(client):
    user = factories.user(role=Role.RECEPTION)

    response = _sign_in(client, user.email)

    assert response.headers["Location"].startswith("/accounts/two-factor/")


def test_sign_out_needs_a_post(client, patient_user):
    _sign_in(client, patient_user.email)

    assert client.get("/accounts/sign-out/").status_code == 405
    response = client.post("/accounts/sign-out/", follow=True)
    assert "You have signed out" in response.content.decode()
    assert client.get("/my/").status_code == 302
