"""Patient pages: each role's view, the wrong patient refused, every access audited."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records.access import AccessRefused
from clinic.records.forms import BAD_NHS_NUMBER, DOB_IN_FUTURE
from clinic.records.models import Patient
from clinic.records.services import DUPLICATE_NHS_NUMBER, PatientDetails, patient_update
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

VALID = {
    "given_name": "Ada",
    "family_name": "Madeup",
    "date_of_birth": "31/03/1980",
    "nhs_number": "943 476 5919",
    "email": "ada@example.org",
    "phone": "020 7946 0001",
    "address": "1 Made-up Road, London",
    "postcode": "W1A 1AA",
    "gp_name": "Dr Example",
    "gp_practice": "Example Surgery",
    "gp_address": "2 Made-up Road",
}


def _entries(**filters):
    return list(
        AuditEntry.objects.filter(**filters).values_list("action", "outcome", "object_type")
    )


def test_a_patient_sees_their_own_record_and_it_is_audited(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    response = client.get("/my/")

    record = patient_user.patient_record
    assert response.status_code == 200
    assert record.hospital_number in response.content.decode()
    assert sorted(_entries(patient=record, actor=patient_user)) == [
        ("read", "allowed", "appointment_list"),
        ("read", "allowed", "patient"),
    ]


def test_a_patient_who_edits_the_url_to_another_record_gets_404_and_an_audit_entry(
    client, patient_user, other_patient
):
    sign_in(client, patient_user, second_factor=False)

    response = client.get(f"/records/patients/{other_patient.pk}/")

    assert response.status_code == 404
    assert other_patient.family_name not in response.content.decode()
    assert _entries(patient=other_patient, actor=patient_user) == [("read", "refused", "patient")]


def test_guessing_a_missing_id_looks_the_same_to_a_patient(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    assert client.get("/records/patients/999999/").status_code == 404
    assert _entries(actor=patient_user, object_id="999999") == [("read", "refused", "patient")]


def test_a_patient_cannot_list_or_register_patients(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    assert client.get("/records/patients/").status_code == 404
    assert client.get("/records/patients/new/").status_code == 404
    assert client.post("/records/patients/new/", VALID).status_code == 404
    assert not Patient.objects.filter(family_name="Madeup").exists()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.CLINICIAN])
def test_staff_find_and_open_a_patient(client, role, other_patient):
    sign_in(client, factories.user(role=role))

    listing = client.get("/records/patients/", {"q": other_patient.family_name})
    detail = client.get(f"/records/patients/{other_patient.pk}/")

    assert other_patient.family_name in listing.content.decode()
    assert detail.status_code == 200
    # One entry for appearing in the list, one for opening the record.
    assert _entries(patient=other_patient) == [("read", "allowed", "patient")] * 2
    details = set(AuditEntry.objects.filter(patient=other_patient).values_list("detail", flat=True))
    assert details == {f"listed in a search for {other_patient.family_name!r}", "demographics read"}


def test_staff_search_by_nhs_number(client, staff):
    factories.patient(family_name="Findme", nhs_number="9434765919")
    sign_in(client, staff[Role.RECEPTION])

    assert "Findme" in client.get("/records/patients/", {"q": "943-476-5919"}).content.decode()


def test_an_administrator_is_refused_patient_records_with_403(client, staff, other_patient):
    sign_in(client, staff[Role.ADMIN])

    assert client.get(f"/records/patients/{other_patient.pk}/").status_code == 403
    assert client.get("/records/patients/").status_code == 403
    assert _entries(patient=other_patient) == [("read", "refused", "patient")]


def test_staff_without_the_second_factor_are_sent_to_it(client, staff, other_patient):
    sign_in(client, staff[Role.CLINICIAN], second_factor=False)

    response = client.get(f"/records/patients/{other_patient.pk}/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/two-factor/")
    assert not AuditEntry.objects.filter(patient=other_patient).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, other_patient):
    response = client.get(f"/records/patients/{other_patient.pk}/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/sign-in/")


def test_reception_registers_a_patient_and_it_is_audited(client, staff):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/records/patients/new/", VALID)

    patient = Patient.objects.get(family_name="Madeup")
    assert response.status_code == 302
    assert patient.nhs_number == "9434765919"
    assert patient.hospital_number.startswith("DC")
    assert _entries(patient=patient) == [("create", "allowed", "patient")]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nhs_number", "943 476 5918", BAD_NHS_NUMBER),
        ("nhs_number", "<b>1234</b>", BAD_NHS_NUMBER),
        ("nhs_number", "<script>alert(1)</script>", "at most 14 characters"),
        ("date_of_birth", "31/03/2999", DOB_IN_FUTURE),
        ("date_of_birth", "not a date", "Enter a valid date."),
        ("given_name", "", "This field is required."),
        ("given_name", "x" * 101, "Ensure this value has at most 100 characters"),
        ("email", "not-an-email", "Enter a valid email address."),
        ("given_name", "Ada\x00", "Null characters are not allowed."),
    ],
)
def test_bad_patient_details_are_refused_beside_the_field_and_nothing_is_written(
    client, staff, field, value, message
):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/records/patients/new/", VALID | {field: value})

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert f'id="id_{field}_error"' in page
    assert not Patient.objects.exists()
    assert not AuditEntry.objects.filter(action="create").exists()


def test_markup_in_a_name_is_stored_as_text_and_shown_escaped(client, staff):
    sign_in(client, staff[Role.RECEPTION])
    client.post("/records/patients/new/", VALID | {"family_name": "<b>Bold</b>"})
    patient = Patient.objects.get()

    page = client.get(f"/records/patients/{patient.pk}/").content.decode()

    assert "&lt;b&gt;Bold&lt;/b&gt;" in page
    assert "<b>Bold</b>" not in page


def test_unicode_names_are_kept(client, staff):
    sign_in(client, staff[Role.RECEPTION])

    client.post(
        "/records/patients/new/", VALID | {"given_name": "Zoë", "family_name": "Ó Ceallaigh-Łukasz"}
    )

    assert Patient.objects.get().family_name == "Ó Ceallaigh-Łukasz"


def test_a_duplicate_nhs_number_is_refused(client, staff):
    factories.patient(nhs_number="9434765919")
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/records/patients/new/", VALID)

    assert response.status_code == 400
    assert DUPLICATE_NHS_NUMBER in response.content.decode()
    assert Patient.objects.count() == 1


def test_staff_edit_a_patient_and_the_change_is_audited(client, staff, other_patient):
    sign_in(client, staff[Role.CLINICIAN])

    response = client.post(
        f"/records/patients/{other_patient.pk}/edit/", VALID | {"phone": "020 7946 0555"}
    )

    other_patient.refresh_from_db()
    assert response.status_code == 302
    assert other_patient.phone == "020 7946 0555"
    entry = AuditEntry.objects.get(patient=other_patient, action="update")
    assert "phone" in entry.detail


def test_the_edit_form_shows_the_current_details_and_the_read_is_audited(
    client, staff, other_patient
):
    sign_in(client, staff[Role.RECEPTION])

    page = client.get(f"/records/patients/{other_patient.pk}/edit/").content.decode()

    assert f'value="{other_patient.given_name}"' in page
    assert f'value="{other_patient.family_name}"' in page
    assert ("read", "allowed", "patient") in _entries(patient=other_patient)


@pytest.mark.parametrize(
    "bad",
    [
        ("nhs_number", "123 456 7890", BAD_NHS_NUMBER),
        ("date_of_birth", "31/12/2999", DOB_IN_FUTURE),
        ("given_name", "", "This field is required."),
        ("family_name", "x" * 500, "at most"),
    ],
)
def test_bad_edits_are_400_with_a_message_and_change_nothing(client, staff, other_patient, bad):
    field, value, message = bad
    before = Patient.objects.values().get(pk=other_patient.pk)
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(f"/records/patients/{other_patient.pk}/edit/", VALID | {field: value})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Patient.objects.values().get(pk=other_patient.pk) == before
    assert not AuditEntry.objects.filter(action="update", outcome="allowed").exists()


def test_an_edit_to_another_patients_nhs_number_is_refused(client, staff, other_patient):
    factories.patient(nhs_number="9434765919")
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(f"/records/patients/{other_patient.pk}/edit/", VALID)

    assert response.status_code == 400
    assert DUPLICATE_NHS_NUMBER in response.content.decode()
    other_patient.refresh_from_db()
    assert other_patient.nhs_number != "9434765919"


@pytest.mark.parametrize("path", ["/records/patients/{id}/", "/records/patients/{id}/edit/"])
def test_a_missing_patient_is_404_for_staff_and_the_attempt_is_audited(client, staff, path):
    sign_in(client, staff[Role.RECEPTION])

    response = client.get(path.format(id=999_999))

    assert response.status_code == 404
    assert AuditEntry.objects.filter(
        object_type="patient", object_id="999999", outcome="refused"
    ).exists()


def test_a_patient_cannot_open_the_edit_form_of_another(client, patient_user, other_patient):
    sign_in(client, patient_user, second_factor=False)

    assert client.get(f"/records/patients/{other_patient.pk}/edit/").status_code == 404
    response = client.post(f"/records/patients/{other_patient.pk}/edit/", VALID)

    assert response.status_code == 404
    other_patient.refresh_from_db()
    assert other_patient.given_name != "Ada"


def test_a_too_long_search_is_refused(client, staff):
    sign_in(client, staff[Role.RECEPTION])

    response = client.get("/records/patients/", {"q": "x" * 500})

    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()


def test_patient_list_uses_a_fixed_number_of_queries(client, staff, django_assert_max_num_queries):
    for _ in range(20):
        factories.patient()
    sign_in(client, staff[Role.RECEPTION])

    with django_assert_max_num_queries(12):
        client.get("/records/patients/")


# GP email, referrer, consent and care dates.

FULL = VALID | {
    "gp_email": "surgery@example.org",
    "referrer_name": "Dr Referrer",
    "referrer_organisation": "Made-up General Hospital",
    "referrer_address": "3 Made-up Road",
    "referrer_email": "referrals@example.org",
    "consents_to_email": "on",
    "consent_recorded_on": "01/02/2024",
    "discharged_on": "01/03/2024",
}


def test_staff_record_the_referrer_consent_and_care_dates_and_see_them(client, staff):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/records/patients/new/", FULL)
    patient = Patient.objects.get()
    page = client.get(f"/records/patients/{patient.pk}/").content.decode()

    assert response.status_code == 302
    assert (patient.gp_email, patient.referrer_organisation) == (
        "surgery@example.org",
        "Made-up General Hospital",
    )
    # A box left unticked is a "no".
    assert (
        patient.consents_to_email,
        patient.consents_to_gp_letters,
        patient.consents_to_research_contact,
    ) == (True, False, False)
    assert (patient.consent_recorded_on, patient.discharged_on) == (
        date(2024, 2, 1),
        date(2024, 3, 1),
    )
    assert patient.date_of_death is None
    for text in ("Dr Referrer", "referrals@example.org", "surgery@example.org", "1 February 2024"):
        assert text in page
    assert "Discharged on" in page
    assert "Date of death" not in page


def test_the_registration_form_groups_its_fields(client, staff):
    sign_in(client, staff[Role.RECEPTION])

    page = client.get("/records/patients/new/").content.decode()

    for legend in ("Identity", "Contact details", "GP", "Referrer", "Consent", "Care"):
        assert f"<legend>{legend}</legend>" in page
    assert 'aria-describedby="id_consents_to_email_helptext"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_death", "30/03/1980", "The date of death cannot be before the date of birth."),
        ("date_of_death", "01/01/2999", "The date of death cannot be in the future."),
        ("discharged_on", "01/01/2999", "The discharge date cannot be in the future."),
        ("discharged_on", "01/01/1970", "The discharge date cannot be before the date of birth."),
        (
            "consent_recorded_on",
            "01/01/2999",
            "The date consent was recorded cannot be in the future.",
        ),
        ("date_of_death", "31/02/2020", "Enter a valid date."),
        ("gp_email", "not-an-email", "Enter a valid email address."),
        ("referrer_email", "<script>@x", "Enter a valid email address."),
        ("referrer_name", "x" * 10_000, "Ensure this value has at most 150 characters"),
        ("referrer_address", "x" * 301, "Ensure this value has at most 300 characters"),
    ],
)
def test_bad_referrer_and_care_details_are_refused_and_nothing_is_written(
    client, staff, field, value, message
):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/records/patients/new/", FULL | {field: value})

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert f'id="id_{field}_error"' in page
    assert not Patient.objects.exists()


def test_a_date_of_death_is_refused_on_an_edit_too(client, staff, other_patient):
    sign_in(client, staff[Role.CLINICIAN])

    response = client.post(
        f"/records/patients/{other_patient.pk}/edit/", VALID | {"date_of_death": "01/01/2999"}
    )

    assert response.status_code == 400
    other_patient.refresh_from_db()
    assert other_patient.date_of_death is None


def test_changing_consent_records_the_date_it_was_given(client, staff, other_patient):
    sign_in(client, staff[Role.RECEPTION])

    client.post(f"/records/patients/{other_patient.pk}/edit/", VALID | {"consents_to_email": "on"})

    other_patient.refresh_from_db()
    assert other_patient.consents_to_gp_letters is False
    assert other_patient.consent_recorded_on == timezone.localdate()
    entry = AuditEntry.objects.get(patient=other_patient, action="update")
    assert "consents_to_gp_letters" in entry.detail
    assert "consent_recorded_on" in entry.detail


def test_a_consent_date_given_with_the_change_is_kept(client, staff, other_patient):
    sign_in(client, staff[Role.RECEPTION])

    client.post(
        f"/records/patients/{other_patient.pk}/edit/", VALID | {"consent_recorded_on": "05/05/2023"}
    )

    other_patient.refresh_from_db()
    assert other_patient.consent_recorded_on == date(2023, 5, 5)


def test_a_patient_sees_their_gp_referrer_and_consents(client, patient_user):
    record = patient_user.patient_record
    record.referrer_name = "Dr Referrer"
    record.gp_email = "surgery@example.org"
    record.consents_to_research_contact = True
    record.save()
    sign_in(client, patient_user, second_factor=False)

    page = client.get("/my/").content.decode()

    assert "Dr Referrer" in page
    assert "surgery@example.org" in page
    assert "Agrees to be contacted about research</dt><dd>Yes" in page


def test_a_patient_cannot_record_their_own_death_or_discharge(patient_user):
    record = patient_user.patient_record
    details = PatientDetails(
        given_name=record.given_name,
        family_name=record.family_name,
        date_of_birth=record.date_of_birth,
        discharged_on=date(2024, 1, 1),
    )

    with pytest.raises(AccessRefused):
        patient_update(
            context=AuditContext(actor=patient_user), patient_id=record.pk, details=details
        )

    record.refresh_from_db()
    assert record.discharged_on is None
    entry = AuditEntry.objects.get(actor=patient_user)
    assert (entry.outcome, entry.detail) == ("refused", "care dates change by patient refused")
