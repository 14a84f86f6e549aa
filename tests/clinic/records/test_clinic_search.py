"""The clinic search: reception and clinicians find patients by name, hospital number or NHS
number; clinicians also by diagnosis (words or a code) and by form of dystonia; reception
never by diagnosis; merged duplicates never appear; the trail names no diagnosis."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import diagnoses, selectors
from clinic.records.access import AccessRefused
from clinic.records.models import Diagnosis
from tests import factories
from tests.clinic.records.test_diagnoses import context_of, encounter_for, review_for
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SEARCH = "/records/patients/"


@pytest.fixture
def clinician(db):
    return factories.user(role=Role.CLINICIAN)


@pytest.fixture
def reception(db):
    return factories.user(role=Role.RECEPTION)


@pytest.fixture
def cases(clinician):
    """A segmental (cervical and blepharospasm) dystonia on the list, a hemifacial spasm on
    the left, a cervical dystonia only classified (not listed), and a patient with nothing."""
    segmental = factories.patient(family_name="Segmental")
    review = review_for(encounter_for(segmental, clinician), regions=("neck", "upper_face"))
    diagnoses.diagnosis_add_from_review(context=context_of(clinician), review_id=review.pk)
    spasm = factories.patient(family_name="Spasm")
    diagnoses.hemifacial_spasm_add(
        context=context_of(clinician),
        patient_id=spasm.pk,
        side="left",
        diagnosed_on=date(2020, 1, 1),
    )
    classified = factories.patient(family_name="Classified")
    review_for(encounter_for(classified, clinician), decision="")
    nothing = factories.patient(family_name="Nothing")
    return {"segmental": segmental, "spasm": spasm, "classified": classified, "nothing": nothing}


def _found(clinician, **search):
    listed = selectors.patients_for_user(context=context_of(clinician), **search)
    return {patient.family_name for patient in listed}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("cervical", {"Segmental"}),
        ("CERVICAL", {"Segmental"}),
        ("segmental blepharospasm", {"Segmental"}),
        ("G24.3", {"Segmental"}),
        ("g24", {"Segmental"}),
        ("8A02", {"Segmental"}),
        ("hemifacial", {"Spasm"}),
        ("G51.32", {"Spasm"}),
        ("G51.31", set()),
        ("13753008", {"Spasm"}),
        ("tremor", set()),
        ("%", set()),
        ("_", set()),
        ('"', set()),
    ],
)
def test_clinicians_search_by_words_of_a_diagnosis_or_a_code(clinician, cases, term, expected):
    assert _found(clinician, diagnosis=term) == expected


def test_a_diagnosis_entered_in_error_or_refuted_is_not_found(clinician, cases):
    for status in ("entered-in-error", "refuted"):
        Diagnosis.objects.filter(patient=cases["spasm"]).update(verification_status=status)
        assert _found(clinician, diagnosis="hemifacial") == set()


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("cervical_dystonia", {"Segmental", "Classified"}),
        ("blepharospasm", {"Segmental"}),
        ("writers_cramp", set()),
    ],
)
def test_clinicians_search_by_form_of_dystonia(clinician, cases, form, expected):
    assert _found(clinician, form=form) == expected


def test_only_the_current_not_overridden_classification_counts(clinician):
    superseded = factories.patient(family_name="Superseded")
    encounter = encounter_for(superseded, clinician)
    review_for(encounter, regions=("neck",), decision="")
    review_for(encounter, regions=("larynx",), decision="")  # replaces it: no cervical
    overridden = factories.patient(family_name="Overridden")
    review_for(encounter_for(overridden, clinician), decision="overridden")

    assert _found(clinician, form="cervical_dystonia") == set()


def test_a_listed_dystonia_keeps_its_form_after_a_later_classification(clinician):
    patient = factories.patient(family_name="Listed")
    encounter = encounter_for(patient, clinician)
    review = review_for(encounter, regions=("neck",))
    diagnoses.diagnosis_add_from_review(context=context_of(clinician), review_id=review.pk)
    review_for(encounter, regions=("larynx",), decision="")

    assert _found(clinician, form="cervical_dystonia") == {"Listed"}


def test_name_and_diagnosis_combine(clinician, cases):
    assert _found(clinician, search="segm", diagnosis="cervical") == {"Segmental"}
    assert _found(clinician, search="spasm", diagnosis="cervical") == set()


def test_an_unknown_form_is_refused_by_the_selector(clinician):
    with pytest.raises(ValueError, match="Choose a form"):
        selectors.patients_for_user(context=context_of(clinician), form="neck")


# Merged duplicates


def test_a_merged_duplicate_never_appears(clinician, reception):
    kept = factories.patient(family_name="Duplicate", hospital_number="KEEP1")
    factories.patient(
        family_name="Duplicate",
        hospital_number="GONE1",
        nhs_number="9434765919",
        merged_into=kept,
        merged_at=timezone.now(),
    )

    for user in (clinician, reception):
        context = context_of(user)
        for search in ("", "Duplicate", "GONE1", "9434765919"):
            listed = selectors.patients_for_user(context=context, search=search)
            assert [p.hospital_number for p in listed if p.family_name == "Duplicate"] in (
                ["KEEP1"],
                [],
            )
    assert "GONE1" not in {
        p.hospital_number
        for p in selectors.patients_for_user(context=context_of(clinician), search="")
    }


# Reception never search by diagnosis


def test_reception_do_not_see_the_clinical_fields(client, reception, clinician):
    sign_in(client, reception)
    page = client.get(SEARCH).content.decode()
    assert 'name="q"' in page
    assert 'name="diagnosis"' not in page
    assert 'name="dystonia_form"' not in page

    sign_in(client, clinician)
    page = client.get(SEARCH).content.decode()
    assert 'name="diagnosis"' in page
    assert 'name="dystonia_form"' in page
    assert "Cervical dystonia (spasmodic torticollis)" in page


@pytest.mark.parametrize(
    "query", [{"diagnosis": "cervical"}, {"dystonia_form": "cervical_dystonia"}]
)
def test_reception_sending_a_diagnosis_search_are_refused_and_audited(
    client, reception, cases, query
):
    sign_in(client, reception)

    response = client.get(SEARCH, {"q": "a", **query})

    assert response.status_code == 403
    refusal = AuditEntry.objects.get(outcome="refused")
    assert (refusal.object_type, refusal.detail) == ("patient_list", "clinical search refused")
    assert not AuditEntry.objects.filter(outcome="allowed", object_type="patient").exists()


def test_reception_asking_the_selector_by_diagnosis_are_refused(reception):
    with pytest.raises(AccessRefused):
        selectors.patients_for_user(context=context_of(reception), diagnosis="G24.3")
    with pytest.raises(AccessRefused):
        selectors.patients_for_user(context=context_of(reception), form="blepharospasm")


def test_reception_still_search_by_name_number_and_nhs_number(client, reception):
    patient = factories.patient(
        family_name="Ordinary", hospital_number="H123", nhs_number="9434765919"
    )
    sign_in(client, reception)

    for term in ("ordinary", "H123", "9434765919", "943-476-5919"):
        response = client.get(SEARCH, {"q": term})
        assert response.status_code == 200
        assert f"/records/patients/{patient.pk}/" in response.content.decode(), term


# Through the page


def test_a_clinician_searches_by_diagnosis_on_the_page(client, clinician, cases):
    sign_in(client, clinician)

    response = client.get(SEARCH, {"diagnosis": "G24.3", "dystonia_form": "blepharospasm"})

    page = response.content.decode()
    assert response.status_code == 200
    assert f"/records/patients/{cases['segmental'].pk}/" in page
    assert f"/records/patients/{cases['spasm'].pk}/" not in page
    entry = AuditEntry.objects.get(object_type="patient", patient=cases["segmental"])
    assert entry.detail == "listed in a search by diagnosis or form"
    # The trail names no diagnosis or form.
    details = " ".join(AuditEntry.objects.values_list("detail", flat=True))
    assert "G24.3" not in details
    assert "blepharospasm" not in details.lower()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"dystonia_form": "neck"}, selectors.UNKNOWN_FORM),
        ({"dystonia_form": "<script>"}, selectors.UNKNOWN_FORM),
        ({"diagnosis": "x" * 101}, "at most 100 characters"),
        ({"diagnosis": "a\x00b"}, "Null characters are not allowed."),
    ],
)
def test_bad_clinical_searches_are_400_with_a_message(client, clinician, query, message):
    sign_in(client, clinician)

    response = client.get(SEARCH, query)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not AuditEntry.objects.filter(object_type="patient").exists()


def test_markup_in_the_search_is_echoed_as_text(client, clinician):
    sign_in(client, clinician)
    script = "<script>alert(1)</script>"

    response = client.get(SEARCH, {"diagnosis": script})

    assert response.status_code == 200
    assert script not in response.content.decode()
    assert "No patients match." in response.content.decode()


def test_a_clinical_search_takes_the_same_queries_however_many_match(client, clinician):
    sign_in(client, clinician)
    client.get(SEARCH)  # the session warmed
    counts = []
    for n in (1, 30):
        for _ in range(n):
            patient = factories.patient()
            review = review_for(encounter_for(patient, clinician), regions=("neck",))
            diagnoses.diagnosis_add_from_review(context=context_of(clinician), review_id=review.pk)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                SEARCH, {"q": "Test", "diagnosis": "cervical", "dystonia_form": "cervical_dystonia"}
            )
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
