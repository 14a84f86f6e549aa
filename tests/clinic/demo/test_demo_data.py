"""The demonstration data: the unit's six sites and fictional staff, loaded idempotently."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import Role, User
from clinic.demo.data import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_PATIENTS
from clinic.demo.services import demo_load
from clinic.directory.models import OpeningHours, Practitioner, Service, Site, Specialty
from clinic.information.models import NewsItem, Story
from clinic.records.models import Encounter, Patient

pytestmark = pytest.mark.django_db

SITES = {
    "London Neurosurgery Partnership": ("78 Harley Street", "W1G 7HJ"),
    "The Harley Street Clinic": ("35 Weymouth Street", "W1G 8BJ"),
    "The Portland Hospital": ("205-209 Great Portland Street", "W1W 5AH"),
    "The Lister Hospital": ("Chelsea Bridge Road", "SW1W 8RH"),
    "The Shard Outpatients": ("The Shard, 32 St Thomas Street", "SE1 9BS"),
    "London Bridge Hospital": ("27 Tooley Street", "SE1 2PR"),
}


def _snapshot():
    models = [Site, OpeningHours, Service, Specialty, Practitioner, Story, NewsItem, User, Patient]
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def test_the_six_sites_have_their_public_addresses():
    demo_load()

    assert {s.name: (s.address_line, s.postcode) for s in Site.objects.all()} == SITES
    assert Site.objects.get(is_specialist_unit=True).name == "London Neurosurgery Partnership"


def test_telephone_numbers_are_from_the_range_kept_for_drama():
    demo_load()

    # Ofcom keeps 020 7946 0000 to 0999 for drama and examples.
    assert all(s.telephone.startswith("020 7946 0") for s in Site.objects.all())
    assert all(s.is_example for s in Site.objects.all())


def test_every_practitioner_is_marked_fictional():
    demo_load()

    practitioners = Practitioner.objects.all()
    assert practitioners.count() == 8
    assert all(p.is_example and "fictional" in p.biography for p in practitioners)
    nouns = set(practitioners.values_list("specialty__slug", flat=True))
    assert nouns == {
        "neurology",
        "clinical-neurophysiology",
        "neurosurgery",
        "specialist-nursing",
        "physiotherapy",
        "speech-and-language-therapy",
    }


def test_every_listed_service_is_offered_somewhere():
    demo_load()

    assert Service.objects.count() == 9
    assert all(service.sites.exists() for service in Service.objects.all())


def test_loading_twice_changes_nothing():
    first = demo_load()
    before = _snapshot()

    second = demo_load()

    assert first.created > 0
    assert second.created == 0
    assert _snapshot() == before


def test_the_demo_admin_can_sign_in():
    demo_load()

    admin = User.objects.get(email=DEMO_ADMIN_EMAIL)
    assert admin.role == Role.ADMIN
    assert admin.check_password(DEMO_ADMIN_PASSWORD)


def test_the_command_prints_every_demo_sign_in(capsys):
    call_command("load_demo")
    call_command("load_demo")

    out = capsys.readouterr().out
    assert f"{DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}" in out
    assert "reception@example.org / clinic-demo-reception" in out
    assert "clinician@example.org / clinic-demo-clinician" in out
    assert "patient@example.org / clinic-demo-patient" in out
    assert "nothing changed" in out


def test_demo_accounts_have_their_roles_and_the_patient_has_a_record():
    demo_load()

    roles = dict(User.objects.values_list("email", "role"))
    assert roles["reception@example.org"] == Role.RECEPTION
    assert roles["clinician@example.org"] == Role.CLINICIAN
    assert roles["patient@example.org"] == Role.PATIENT
    patient = User.objects.get(email="patient@example.org").patient_record
    assert patient.nhs_number == "9990000018"
    assert User.objects.get(email="clinician@example.org").practitioner.slug == "amara-okafor"


def test_demo_totp_code_is_for_the_demo_only(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_totp_code")


def test_demo_totp_code_matches_the_demo_staff_device(settings, capsys):
    demo_load()
    settings.DEBUG = True
    call_command("demo_totp_code")

    code = capsys.readouterr().out.strip()
    device = TOTPDevice.objects.get(user__email="clinician@example.org")
    assert device.verify_token(code)


def test_the_demo_clinical_record_is_a_classified_signed_consultation_with_a_letter():
    """Oliver Example's made-up consultation: the core's own classification (focal cervical
    dystonia, confirmed), the diagnosis with the core's codes, and the sent letter's PDF."""
    demo_load()
    oliver = Patient.objects.get(hospital_number=DEMO_PATIENTS[1][4])
    [encounter] = Encounter.objects.filter(patient=oliver)
    [review] = encounter.classification_reviews.all()
    [diagnosis] = oliver.diagnoses.all()
    [letter] = oliver.letters.all()

    assert encounter.is_signed
    assert (review.distribution, review.forms, review.decision) == (
        "focal",
        "cervical_dystonia",
        "confirmed",
    )
    assert {code["code"] for code in diagnosis.codes} >= {"G24.3", "15802004"}
    assert letter.is_sent
    assert bytes(letter.pdf).startswith(b"%PDF-")
    assert "Dr Gita Madeup" in letter.html
    assert "Made-up demonstration record" in letter.html
    # Nothing clinical for Patricia Demo: the browser journey records her first visit.
    assert not Encounter.objects.filter(patient__hospital_number=DEMO_PATIENTS[0][4]).exists()
