"""Regression tests for the findings of the security review of accounts, access and audit."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core import mail
from django.test import RequestFactory, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import FailedSignIn, Role, User
from clinic.accounts.requests import address_network, client_address
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records.access import AccessRefused
from clinic.records.services import PatientDetails, patient_update
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db
PASSWORD = "a-made-up-password"


def test_a_password_alone_cannot_enrol_a_new_authenticator(client):
    user = factories.user(role=Role.CLINICIAN)
    real = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client.post("/accounts/sign-in/", {"email": user.email, "password": PASSWORD})

    response = client.get("/accounts/two-factor/setup/")

    assert response.headers["Location"].startswith("/accounts/two-factor/")
    assert list(TOTPDevice.objects.filter(user=user)) == [real]
    assert client.get("/records/patients/").status_code == 302


def test_after_the_second_factor_an_authenticator_can_be_replaced(client):
    user = factories.user(role=Role.CLINICIAN)
    sign_in(client, user)
    client.get("/accounts/two-factor/setup/")
    pending = TOTPDevice.objects.get(user=user, confirmed=False)

    client.post("/accounts/two-factor/setup/", {"code": f"{totp(pending.bin_key):06d}"})

    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True)) == [pending.pk]


def test_patients_cannot_use_the_staff_record_pages_even_for_their_own_record(client, patient_user):
    sign_in(client, patient_user, second_factor=False)
    own = patient_user.patient_record

    assert client.get(f"/records/patients/{own.pk}/").status_code == 404
    assert (
        client.post(f"/records/patients/{own.pk}/edit/", {"nhs_number": "9434765919"}).status_code
        == 404
    )
    assert AuditEntry.objects.filter(patient=own, outcome="refused").count() == 2


def test_a_patient_cannot_change_their_identity_through_the_service(patient_user):
    own = patient_user.patient_record
    patient_user.is_verified = lambda: False
    details = PatientDetails(
        given_name=own.given_name,
        family_name=own.family_name,
        date_of_birth=own.date_of_birth,
        nhs_number="9434765919",
    )

    with pytest.raises(AccessRefused):
        patient_update(context=AuditContext(actor=patient_user), patient_id=own.pk, details=details)
    assert AuditEntry.objects.get(patient=own).detail == "identity change by patient refused"


def test_listing_patients_over_the_api_leaves_an_entry_for_each(client, staff):
    patients = [factories.patient() for _ in range(3)]
    sign_in(client, staff[Role.RECEPTION])

    client.get("/api/v1/patients")

    for patient in patients:
        assert (
            AuditEntry.objects.filter(patient=patient, channel="api", outcome="allowed").count()
            == 1
        )


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "198.51.100.9", "203.0.113.1", "203.0.113.1"),
        (1, "198.51.100.66, 198.51.100.9", "10.0.0.2", "198.51.100.9"),  # the left hop is forgeable
        (1, "garbage", "10.0.0.2", "10.0.0.2"),
        (2, "198.51.100.9", "10.0.0.2", "10.0.0.2"),
    ],
)
def test_the_client_address_is_taken_from_the_trusted_hop(
    settings, proxies, forwarded, remote, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)

    assert client_address(request) == expected


def test_ipv6_addresses_lock_out_by_their_64():
    assert address_network("2001:db8::1") == address_network("2001:db8::ffff") == "2001:db8::/64"


@override_settings(SIGN_IN_LOCKOUT_PER_ADDRESS=4, SIGN_IN_LOCKOUT_PER_ACCOUNT=100)
def test_rotating_ipv6_addresses_does_not_escape_the_address_lockout(client, patient_user):
    for n in range(4):
        client.post(
            "/accounts/sign-in/",
            {"email": f"g{n}@example.org", "password": "x"},
            REMOTE_ADDR=f"2001:db8::{n + 1}",
        )

    response = client.post(
        "/accounts/sign-in/",
        {"email": patient_user.email, "password": PASSWORD},
        REMOTE_ADDR="2001:db8::99",
    )

    assert "from this network" in response.content.decode()


@override_settings(SIGN_IN_LOCKOUT_PER_ACCOUNT=2)
def test_a_password_reset_lifts_the_lockout(client, patient_user):
    for _ in range(2):
        client.post("/accounts/sign-in/", {"email": patient_user.email, "password": "wrong"})
    client.post("/accounts/password-reset/", {"email": patient_user.email})
    link = re.search(
        r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[0].body
    ).group(1)
    form = client.get(link, follow=True)
    new = "another long made-up passphrase"

    client.post(form.request["PATH_INFO"], {"new_password1": new, "new_password2": new})

    assert not FailedSignIn.objects.filter(email=patient_user.email).exists()
    assert (
        client.post(
            "/accounts/sign-in/", {"email": patient_user.email, "password": new}
        ).status_code
        == 302
    )


def test_confirmation_emails_are_rate_limited(client, db):
    factories.user(email="slow@example.org", email_verified=False)

    for _ in range(6):
        client.post("/accounts/verify/resend/", {"email": "slow@example.org"})

    assert len(mail.outbox) == 3


@pytest.mark.parametrize("email", ["", "x\x00y@example.org", "not-an-email", "x" * 300])
def test_resending_refuses_malformed_addresses(client, db, email):
    assert client.post("/accounts/verify/resend/", {"email": email}).status_code == 400


def test_the_device_admin_hides_keys(settings):
    assert settings.OTP_ADMIN_HIDE_SENSITIVE_DATA is True


def test_an_admin_cannot_turn_a_patient_into_staff_or_set_their_password(
    client, staff, patient_user
):
    sign_in(client, staff[Role.ADMIN])
    form = {
        "email": patient_user.email,
        "full_name": "Changed",
        "role": "clinician",
        "is_active": "on",
        "email_verified": "on",
    }

    response = client.post(f"/admin/accounts/user/{patient_user.pk}/change/", form)
    password = client.get(f"/admin/accounts/user/{patient_user.pk}/password/")

    assert response.status_code == 200
    assert "stays a patient account" in response.content.decode()
    assert User.objects.get(pk=patient_user.pk).role == Role.PATIENT
    assert password.status_code == 403
    assert AuditEntry.objects.filter(object_type="account", outcome="refused").exists()


def test_account_changes_in_the_admin_are_audited_and_emails_lowercased(client, staff):
    sign_in(client, staff[Role.ADMIN])

    client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Staff@Example.org",
            "full_name": "New Staff",
            "role": "reception",
            "password1": "a long made-up passphrase",
            "password2": "a long made-up passphrase",
        },
    )

    user = User.objects.get(email="new.staff@example.org")
    assert AuditEntry.objects.filter(
        object_type="account", object_id=str(user.pk), action="create"
    ).exists()


def test_demoting_an_administrator_drops_superuser_instead_of_failing(staff):
    admin = staff[Role.ADMIN]
    admin.role = Role.RECEPTION

    admin.save()

    admin.refresh_from_db()
    assert admin.is_superuser is False


def test_every_csv_cell_is_neutralised(client, staff):
    formula_user = factories.user(email="=1+2@example.org")
    sign_in(client, formula_user, second_factor=False)
    client.get("/records/patients/")
    sign_in(client, staff[Role.ADMIN])

    rows = list(
        csv.reader(
            io.StringIO(b"".join(client.get("/audit/export.csv").streaming_content).decode())
        )
    )

    assert all(not cell.startswith("=") for row in rows for cell in row)


@pytest.mark.parametrize(
    "params", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}, {"outcome": "x"}]
)
def test_out_of_range_or_invalid_filters_are_400_for_search_and_export(client, staff, params):
    sign_in(client, staff[Role.ADMIN])

    assert client.get("/audit/", params).status_code == 400
    assert client.get("/audit/export.csv", params).status_code == 400


def test_refusals_of_the_audit_trail_and_of_the_create_page_are_audited(client, staff):
    sign_in(client, staff[Role.CLINICIAN])
    client.get("/audit/")
    sign_in(client, staff[Role.ADMIN])
    client.get("/records/patients/new/")

    assert AuditEntry.objects.filter(object_type="audit_log", outcome="refused").exists()
    assert AuditEntry.objects.filter(
        object_type="patient", action="create", outcome="refused"
    ).exists()


def test_an_edit_is_one_update_entry_and_a_refused_edit_is_an_update_refusal(
    client, staff, other_patient
):
    form = {
        "given_name": "A",
        "family_name": "B",
        "date_of_birth": "01/01/1980",
        "email": "",
        "phone": "",
        "address": "",
        "postcode": "",
        "gp_name": "",
        "gp_practice": "",
        "gp_address": "",
        "nhs_number": "",
    }
    sign_in(client, staff[Role.RECEPTION])
    client.post(f"/records/patients/{other_patient.pk}/edit/", form)
    sign_in(client, staff[Role.ADMIN])
    client.post(f"/records/patients/{other_patient.pk}/edit/", form)

    entries = list(
        AuditEntry.objects.filter(patient=other_patient)
        .order_by("pk")
        .values_list("action", "outcome")
    )
    assert entries == [("update", "allowed"), ("update", "refused")]


@pytest.mark.parametrize("email", ["not-an-email", "x\x00y@example.org"])
def test_the_api_validates_email_addresses(client, staff, email):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(
        "/api/v1/patients",
        {"given_name": "A", "family_name": "B", "date_of_birth": "1980-01-01", "email": email},
        content_type="application/json",
    )

    assert response.status_code == 422
