"""TOTP two-factor sign-in: required for staff, optional for patients."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.forms import BAD_CODE
from clinic.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-made-up-password"


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def _password_step(client, user):
    return client.post("/accounts/sign-in/", {"email": user.email, "password": PASSWORD})


def test_staff_without_an_authenticator_must_enrol_before_anything_else(client):
    user = factories.user(role=Role.CLINICIAN)
    _password_step(client, user)

    page = client.get("/accounts/two-factor/", follow=True)
    blocked = client.get("/records/patients/")

    assert "Set up two-factor sign-in" in page.content.decode()
    assert "<svg" in page.content.decode()
    assert blocked.headers["Location"].startswith("/accounts/two-factor/")


def test_enrolment_by_the_typed_key_then_access(client):
    user = factories.user(role=Role.RECEPTION)
    _password_step(client, user)
    page = client.get("/accounts/two-factor/setup/").content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")

    response = client.post(
        "/accounts/two-factor/setup/", {"code": f"{totp(b32decode(secret)):06d}"}
    )

    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get("/records/patients/").status_code == 200


def test_staff_with_an_authenticator_enter_its_code(client):
    user = factories.user(role=Role.CLINICIAN)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    _password_step(client, user)

    response = client.post(
        "/accounts/two-factor/", {"code": _code(device), "next": "/records/patients/"}
    )

    assert response.headers["Location"] == "/records/patients/"
    assert client.get("/records/patients/").status_code == 200


@pytest.mark.parametrize(
    "code",
    [
        "000000",
        "12345",
        "1234567",
        "abcdef",
        "",
        "\uff11\uff12\uff13\uff14\uff15\uff16",
        "<script>",
    ],
)
def test_a_wrong_or_malformed_code_is_refused_with_a_message(client, code):
    user = factories.user(role=Role.CLINICIAN)
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    _password_step(client, user)

    response = client.post("/accounts/two-factor/", {"code": code})

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert client.get("/records/patients/").status_code == 302


def test_the_wrong_code_message_is_clear(client):
    user = factories.user(role=Role.CLINICIAN)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    _password_step(client, user)
    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"

    response = client.post("/accounts/two-factor/", {"code": wrong})

    assert BAD_CODE in response.content.decode()


def test_patients_need_no_second_factor_until_they_turn_it_on(client, patient_user):
    _password_step(client, patient_user)
    assert client.get("/my/").status_code == 200

    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=patient_user)
    client.post("/accounts/two-factor/setup/", {"code": _code(device)})
    client.post("/accounts/sign-out/")
    _password_step(client, patient_user)

    assert client.get("/my/").headers["Location"].startswith("/accounts/two-factor/")


def test_signed_out_visitors_cannot_reach_the_two_factor_pages(client, db):
    assert client.get("/accounts/two-factor/").headers["Location"] == "/accounts/sign-in/"
    assert client.get("/accounts/two-factor/setup/").headers["Location"] == "/accounts/sign-in/"
