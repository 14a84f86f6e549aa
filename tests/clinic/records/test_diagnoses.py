"""The problem list: dystonia from a decided classification (confirmed: the core's label and
codes; overridden: the clinician's words and only the category codes), hemifacial spasm with
its side (not a dystonia), other diagnoses without codes; status and dates; clinicians only,
every access audited without clinical content, nothing written on a refusal."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records import diagnoses, diagnosis_selectors
from clinic.records.access import AccessRefused
from clinic.records.diagnoses import DiagnosisRefused
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import (
    ClassificationReview,
    ClinicalStatus,
    Diagnosis,
    DiagnosisKind,
    Encounter,
    EncounterKind,
    ReviewDecision,
    VerificationStatus,
)
from clinic.scheduling.availability import clinic_tz, local_today
from dystonia.assessment import assess, assessment_document
from dystonia.findings import findings_from_document
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD11 = "http://id.who.int/icd/release/11/mms"
SNOMED = "http://snomed.info/sct"
SEGMENTAL_LABEL = "Segmental dystonia: Cervical dystonia (spasmodic torticollis), Blepharospasm"


# Builders, shared with test_timeline.py and test_clinic_search.py


def context_of(user):
    """A service-level context for a user who has passed two-factor sign-in."""
    user.is_verified = lambda: True
    return AuditContext(actor=user)


def encounter_for(patient, clinician, *, started_at=None, signed=False, site=None):
    started_at = started_at or timezone.now() - timedelta(hours=1)
    return Encounter.objects.create(
        patient=patient,
        kind=EncounterKind.CONSULTATION,
        clinician=clinician,
        site=site or factories.site(),
        started_at=started_at,
        signed_at=started_at if signed else None,
        signed_by=clinician if signed else None,
    )


def review_for(encounter, *, regions=("neck",), decision="confirmed", by=None, **fields):
    """A classification review made by the core from the given regions, decided as asked."""
    document = {"age_at_onset_years": 45, "regions": [{"region": r} for r in regions]}
    assessment = assessment_document(assess(findings_from_document(document)))
    decided = decision != ReviewDecision.PENDING
    values = {
        "encounter": encounter,
        "findings": document,
        "assessment": assessment,
        "classification_version": assessment["classification_version"],
        "distribution": assessment["distribution"],
        "forms": " ".join(assessment["forms"]),
        "decision": decision,
        "decided_by": (by or encounter.clinician) if decided else None,
        "decided_at": timezone.now() if decided else None,
    }
    if decision == ReviewDecision.OVERRIDDEN:
        values |= {
            "clinician_distribution": "multifocal",
            "clinician_statement": "Multifocal dystonia with jaw involvement",
            "override_reason": "The jaw is involved too.",
        }
    return ClassificationReview.objects.create(**(values | fields))


@pytest.fixture
def clinician(db):
    return factories.user(role=Role.CLINICIAN, full_name="Dr Ann")


@pytest.fixture
def patient(db):
    return factories.patient(date_of_birth=date(1970, 1, 1))


def _hfs(clinician, patient, **changes):
    values = {
        "patient_id": patient.pk,
        "side": "left",
        "diagnosed_on": date(2020, 5, 1),
    } | changes
    return diagnoses.hemifacial_spasm_add(context=context_of(clinician), **values)


def _other(clinician, patient, **changes):
    values = {
        "patient_id": patient.pk,
        "label": "Essential tremor",
        "diagnosed_on": date(2020, 5, 1),
    } | changes
    return diagnoses.diagnosis_other_add(context=context_of(clinician), **values)


def _codes(diagnosis):
    return [(code["system"], code["code"]) for code in diagnosis.codes]


def _entries(**filters):
    return list(
        AuditEntry.objects.filter(object_type="diagnosis", **filters)
        .order_by("pk")
        .values_list("action", "outcome", "detail")
    )


# From a decided classification


def test_a_confirmed_classification_goes_on_the_list_with_the_cores_label_and_codes(
    clinician, patient
):
    encounter = encounter_for(patient, clinician)
    review = review_for(encounter, regions=("neck", "upper_face"))

    diagnosis = diagnoses.diagnosis_add_from_review(
        context=context_of(clinician), review_id=review.pk
    )

    assert diagnosis.kind == DiagnosisKind.DYSTONIA
    assert diagnosis.label == SEGMENTAL_LABEL
    assert diagnosis.codes == review.assessment["codes"]
    assert (ICD10, "G24.3") in _codes(diagnosis)
    assert (ICD10, "G24.5") in _codes(diagnosis)
    assert diagnosis.encounter == encounter
    assert diagnosis.classification_review == review
    assert diagnosis.diagnosed_on == encounter.started_at.astimezone(clinic_tz()).date()
    assert diagnosis.recorded_by == clinician
    [entry] = _entries()
    assert entry[:2] == ("create", "allowed")
    assert "dystonia" not in entry[2].lower()  # no clinical content in the trail


def test_an_overridden_classification_keeps_only_the_category_codes(clinician, patient):
    review = review_for(
        encounter_for(patient, clinician),
        regions=("neck", "upper_face"),
        decision=ReviewDecision.OVERRIDDEN,
    )

    diagnosis = diagnoses.diagnosis_add_from_review(
        context=context_of(clinician), review_id=review.pk
    )

    assert diagnosis.label == "Multifocal dystonia: Multifocal dystonia with jaw involvement"
    # The core's G24.3 and G24.5 came from the classification the clinician rejected.
    assert sorted(_codes(diagnosis)) == [(ICD11, "8A02"), (SNOMED, "15802004")]
    assert {code["applies_to"] for code in diagnosis.codes} == {"dystonia"}


def test_an_undecided_classification_is_refused_and_nothing_is_written(clinician, patient):
    review = review_for(encounter_for(patient, clinician), decision=ReviewDecision.PENDING)

    with pytest.raises(DiagnosisRefused) as refused:
        diagnoses.diagnosis_add_from_review(context=context_of(clinician), review_id=review.pk)

    assert refused.value.message == diagnoses.REVIEW_NOT_DECIDED
    assert refused.value.status == 409
    assert not Diagnosis.objects.exists()
    assert _entries()[0][:2] == ("create", "refused")


def test_a_superseded_classification_is_refused(clinician, patient):
    encounter = encounter_for(patient, clinician)
    older = review_for(encounter)
    review_for(encounter, regions=("neck", "upper_face"))

    with pytest.raises(DiagnosisRefused) as refused:
        diagnoses.diagnosis_add_from_review(context=context_of(clinician), review_id=older.pk)

    assert refused.value.message == diagnoses.REVIEW_SUPERSEDED
    assert not Diagnosis.objects.exists()


def test_a_classification_goes_on_the_list_once_unless_entered_in_error(clinician, patient):
    review = review_for(encounter_for(patient, clinician))
    context = context_of(clinician)
    first = diagnoses.diagnosis_add_from_review(context=context, review_id=review.pk)

    with pytest.raises(DiagnosisRefused) as refused:
        diagnoses.diagnosis_add_from_review(context=context, review_id=review.pk)
    assert refused.value.message == diagnoses.ALREADY_ON_LIST

    diagnoses.diagnosis_status_change(
        context=context,
        diagnosis_id=first.pk,
        clinical_status=ClinicalStatus.ACTIVE,
        verification_status=VerificationStatus.ENTERED_IN_ERROR,
    )
    again = diagnoses.diagnosis_add_from_review(context=context, review_id=review.pk)
    assert again.pk != first.pk
    assert Diagnosis.objects.count() == 2


def test_a_missing_classification_is_not_found_and_audited(clinician):
    with pytest.raises(diagnoses.DiagnosisNotFound):
        diagnoses.diagnosis_add_from_review(context=context_of(clinician), review_id=999_999)

    assert AuditEntry.objects.get(object_type="classification_review").outcome == "refused"


def test_the_label_is_built_safely_from_a_damaged_assessment(clinician, patient):
    review = review_for(encounter_for(patient, clinician))
    review.assessment = {"codes": [{"code": 1}, "x"], "form_details": [{"form": "nonsense"}, 3]}

    label, codes = diagnoses.review_diagnosis(review)

    assert (label, codes) == ("Focal dystonia", [])


# Hemifacial spasm: not a dystonia, coded per side (clinical.md section 2)


@pytest.mark.parametrize(
    ("side", "cm_code", "label"),
    [
        ("right", "G51.31", "Hemifacial spasm (right)"),
        ("left", "G51.32", "Hemifacial spasm (left)"),
        ("bilateral", "G51.33", "Hemifacial spasm (bilateral)"),
        ("", "G51.39", "Hemifacial spasm"),
    ],
)
def test_hemifacial_spasm_is_recorded_with_its_side_and_codes(
    clinician, patient, side, cm_code, label
):
    diagnosis = _hfs(clinician, patient, side=side)

    assert diagnosis.kind == DiagnosisKind.HEMIFACIAL_SPASM
    assert diagnosis.side == side
    assert diagnosis.label == label
    assert sorted(_codes(diagnosis)) == sorted(
        [(ICD10, "G51.3"), (ICD10_CM, cm_code), (ICD11, "8B88.2"), (SNOMED, "13753008")]
    )
    assert {code["applies_to"] for code in diagnosis.codes} == {"hemifacial_spasm"}


@pytest.mark.parametrize("side", ["up", "LEFT", None, 3, "left\x00"])
def test_a_bad_side_is_refused(clinician, patient, side):
    with pytest.raises(DiagnosisRefused) as refused:
        _hfs(clinician, patient, side=side)

    assert (refused.value.message, refused.value.field) == (diagnoses.BAD_SIDE, "side")
    assert not Diagnosis.objects.exists()


# Other diagnoses: free text, no codes


def test_another_diagnosis_is_recorded_in_the_clinicians_words_without_codes(clinician, patient):
    diagnosis = _other(clinician, patient, label="  Essential   tremor ")

    assert (diagnosis.kind, diagnosis.label, diagnosis.codes) == (
        DiagnosisKind.OTHER,
        "Essential tremor",
        [],
    )
    assert diagnosis.side == ""
    assert not any("tremor" in e[2].lower() for e in _entries())


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("", diagnoses.LABEL_REQUIRED),
        ("   ", diagnoses.LABEL_REQUIRED),
        (None, diagnoses.LABEL_REQUIRED),
        (42, diagnoses.LABEL_REQUIRED),
        ("x" * 201, diagnoses.LABEL_TOO_LONG),
        ("tremor\x00", NUL_CHARACTER),
    ],
)
def test_a_bad_label_is_refused(clinician, patient, label, message):
    with pytest.raises(DiagnosisRefused) as refused:
        _other(clinician, patient, label=label)

    assert refused.value.message == message
    assert not Diagnosis.objects.exists()
    assert _entries()[-1][:2] == ("create", "refused")


@pytest.mark.parametrize(
    ("diagnosed_on", "message"),
    [
        (local_today() + timedelta(days=1), diagnoses.DIAGNOSED_IN_FUTURE),
        (date(1969, 12, 31), diagnoses.DIAGNOSED_BEFORE_BIRTH),
        ("2020-01-01", diagnoses.BAD_DATE),
        (None, diagnoses.BAD_DATE),
        (datetime(2020, 1, 1, tzinfo=clinic_tz()), diagnoses.BAD_DATE),
    ],
)
def test_a_bad_date_of_diagnosis_is_refused(clinician, patient, diagnosed_on, message):
    with pytest.raises(DiagnosisRefused) as refused:
        _other(clinician, patient, diagnosed_on=diagnosed_on)

    assert (refused.value.message, refused.value.field) == (message, "diagnosed_on")
    assert not Diagnosis.objects.exists()


def test_the_day_of_birth_and_today_are_allowed(clinician, patient):
    assert _other(clinician, patient, diagnosed_on=patient.date_of_birth)
    assert _other(clinician, patient, diagnosed_on=local_today())


@pytest.mark.parametrize("status", ["refuted", "entered-in-error", "", "maybe"])
def test_a_new_diagnosis_is_provisional_or_confirmed(clinician, patient, status):
    with pytest.raises(DiagnosisRefused) as refused:
        _other(clinician, patient, verification_status=status)

    assert refused.value.message == diagnoses.NEW_VERIFICATION


def test_an_encounter_of_another_patient_is_refused(clinician, patient):
    elsewhere = encounter_for(factories.patient(), clinician)

    with pytest.raises(DiagnosisRefused) as refused:
        _other(clinician, patient, encounter_id=elsewhere.pk)

    assert refused.value.message == diagnoses.OTHER_PATIENTS_ENCOUNTER
    assert _other(clinician, patient, encounter_id=encounter_for(patient, clinician).pk)


# Status and dates


def _change(clinician, diagnosis, **values):
    values = {
        "clinical_status": ClinicalStatus.RESOLVED,
        "verification_status": VerificationStatus.CONFIRMED,
        "resolved_on": date(2021, 1, 1),
    } | values
    return diagnoses.diagnosis_status_change(
        context=context_of(clinician), diagnosis_id=diagnosis.pk, **values
    )


def test_a_diagnosis_resolves_with_a_date_and_becomes_active_again(clinician, patient):
    diagnosis = _other(clinician, patient)

    resolved = _change(clinician, diagnosis)
    assert (resolved.clinical_status, resolved.resolved_on) == ("resolved", date(2021, 1, 1))

    active = _change(clinician, diagnosis, clinical_status="active", resolved_on=date(2021, 1, 1))
    assert (active.clinical_status, active.resolved_on) == ("active", None)
    assert _entries(action="update") == [("update", "allowed", "status changed")] * 2


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({"resolved_on": None}, diagnoses.RESOLVED_REQUIRED, "resolved_on"),
        ({"resolved_on": date(2020, 4, 30)}, diagnoses.RESOLVED_BEFORE_DIAGNOSED, "resolved_on"),
        (
            {"resolved_on": local_today() + timedelta(days=1)},
            diagnoses.RESOLVED_IN_FUTURE,
            "resolved_on",
        ),
        ({"resolved_on": "2021-01-01"}, diagnoses.BAD_DATE, "resolved_on"),
        ({"clinical_status": "cured"}, diagnoses.BAD_CLINICAL_STATUS, "clinical_status"),
        ({"verification_status": "sure"}, diagnoses.BAD_VERIFICATION_STATUS, "verification_status"),
    ],
)
def test_bad_status_changes_are_refused_and_change_nothing(
    clinician, patient, changes, message, field
):
    diagnosis = _other(clinician, patient)

    with pytest.raises(DiagnosisRefused) as refused:
        _change(clinician, diagnosis, **changes)

    assert (refused.value.message, refused.value.field) == (message, field)
    diagnosis.refresh_from_db()
    assert (diagnosis.clinical_status, diagnosis.resolved_on) == ("active", None)
    assert _entries()[-1][:2] == ("update", "refused")


def test_entered_in_error_keeps_the_row_and_is_final(clinician, patient):
    diagnosis = _other(clinician, patient)

    _change(clinician, diagnosis, clinical_status="active", verification_status="entered-in-error")
    with pytest.raises(DiagnosisRefused) as refused:
        _change(clinician, diagnosis, clinical_status="active")

    assert refused.value.status == 409
    assert refused.value.message == diagnoses.ENTERED_IN_ERROR_IS_FINAL
    kept = Diagnosis.objects.get(pk=diagnosis.pk)
    assert (kept.label, kept.verification_status) == ("Essential tremor", "entered-in-error")
    assert ("update", "allowed", "marked as entered in error") in _entries()


def test_a_missing_diagnosis_is_not_found_and_audited(clinician):
    with pytest.raises(diagnoses.DiagnosisNotFound):
        diagnoses.diagnosis_status_change(
            context=context_of(clinician),
            diagnosis_id=424_242,
            clinical_status="active",
            verification_status="confirmed",
        )

    assert AuditEntry.objects.get(object_type="diagnosis").detail == "no such diagnosis"


DAYS = st.dates(min_value=date(1960, 1, 1), max_value=local_today() + timedelta(days=400))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    diagnosed_on=DAYS,
    resolved_on=st.none() | DAYS,
    status=st.sampled_from(ClinicalStatus.values),
)
def test_status_dates_always_hold_whatever_is_asked(
    clinician, patient, diagnosed_on, resolved_on, status
):
    """Whatever dates are asked for, a stored diagnosis is dated between birth and today,
    and a resolved one resolved between its diagnosis and today; a refusal writes nothing."""
    today = local_today()
    try:
        diagnosis = _other(clinician, patient, diagnosed_on=diagnosed_on)
    except DiagnosisRefused:
        assert not (patient.date_of_birth <= diagnosed_on <= today)
        return
    with contextlib.suppress(DiagnosisRefused):
        _change(clinician, diagnosis, clinical_status=status, resolved_on=resolved_on)
    stored = Diagnosis.objects.get(pk=diagnosis.pk)
    assert patient.date_of_birth <= stored.diagnosed_on <= today
    if stored.clinical_status == ClinicalStatus.RESOLVED:
        assert stored.resolved_on is not None
        assert stored.diagnosed_on <= stored.resolved_on <= today
    else:
        assert stored.resolved_on is None


# Access


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_only_clinicians_write_diagnoses(patient, role):
    user = factories.user(role=role)

    with pytest.raises(AccessRefused) as refused:
        _other(user, patient)

    assert refused.value.reveal is (role != Role.PATIENT)
    assert not Diagnosis.objects.exists()
    assert _entries() == [("create", "refused", "diagnosis create refused")]


def test_a_clinician_without_the_second_factor_is_refused(clinician, patient):
    clinician.is_verified = lambda: False
    with pytest.raises(AccessRefused):
        diagnoses.diagnosis_other_add(
            context=AuditContext(actor=clinician),
            patient_id=patient.pk,
            label="Essential tremor",
            diagnosed_on=date(2020, 1, 1),
        )


# Pages


def _pages(patient, diagnosis, review):
    return [
        f"/records/patients/{patient.pk}/diagnoses/hemifacial-spasm/new/",
        f"/records/patients/{patient.pk}/diagnoses/other/new/",
        f"/records/diagnoses/{diagnosis.pk}/",
        f"/records/classification-reviews/{review.pk}/add-to-problem-list/",
    ]


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_other_staff_are_refused_403_about_a_patient_and_404_for_an_id(
    client, clinician, patient, role
):
    diagnosis = _other(clinician, patient)
    review = review_for(encounter_for(patient, clinician))
    user = factories.user(role=role)
    sign_in(client, user)

    # About the patient (their problem list) staff are told they lack the right; a diagnosis
    # or a classification asked for by its id is not even said to exist.
    for path, status in zip(_pages(patient, diagnosis, review), [403, 403, 404, 404], strict=True):
        assert client.get(path).status_code == status, path
        assert client.post(path, {"label": "x"}).status_code == status, path
    assert Diagnosis.objects.count() == 1
    refused = AuditEntry.objects.filter(outcome="refused", actor=user)
    assert refused.count() == 8
    assert set(refused.values_list("patient", flat=True)) == {patient.pk}


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_by_id_the_services_hide_a_diagnosis_or_review_from_other_staff(clinician, patient, role):
    diagnosis = _other(clinician, patient)
    review = review_for(encounter_for(patient, clinician))
    user = factories.user(role=role)
    context = context_of(user)
    attempts = [
        lambda: diagnosis_selectors.diagnosis_for_clinician(
            context=context, diagnosis_id=diagnosis.pk
        ),
        lambda: diagnosis_selectors.review_preview(context=context, review_id=review.pk),
        lambda: diagnoses.diagnosis_add_from_review(context=context, review_id=review.pk),
        lambda: diagnoses.diagnosis_status_change(
            context=context,
            diagnosis_id=diagnosis.pk,
            clinical_status=ClinicalStatus.RESOLVED,
            verification_status=VerificationStatus.CONFIRMED,
            resolved_on=date(2021, 1, 1),
        ),
    ]

    for attempt in attempts:
        with pytest.raises(AccessRefused) as refused:
            attempt()
        assert refused.value.reveal is False  # 404: not told it exists

    assert list(Diagnosis.objects.values_list("pk", "clinical_status")) == [
        (diagnosis.pk, ClinicalStatus.ACTIVE)
    ]
    refusals = AuditEntry.objects.filter(actor=user)
    assert set(refusals.values_list("outcome", "patient")) == {("refused", patient.pk)}
    assert refusals.count() == len(attempts)


def test_patients_are_answered_404_even_for_their_own_record(client, clinician, patient_user):
    patient = patient_user.patient_record
    diagnosis = _other(clinician, patient)
    review = review_for(encounter_for(patient, clinician))
    sign_in(client, patient_user, second_factor=False)

    for path in _pages(patient, diagnosis, review):
        assert client.get(path).status_code == 404, path
        assert client.post(path, {"label": "x"}).status_code == 404, path


def test_missing_ids_are_404(client, clinician):
    sign_in(client, clinician)
    for path in [
        "/records/patients/999999/diagnoses/other/new/",
        "/records/diagnoses/999999/",
        "/records/classification-reviews/999999/add-to-problem-list/",
    ]:
        assert client.get(path).status_code == 404, path


def test_a_clinician_records_hemifacial_spasm_through_the_page(client, clinician, patient):
    sign_in(client, clinician)
    path = f"/records/patients/{patient.pk}/diagnoses/hemifacial-spasm/new/"
    form = client.get(path)
    assert "not a dystonia" in form.content.decode()

    response = client.post(
        path, {"side": "right", "diagnosed_on": "2021-03-04", "verification_status": "confirmed"}
    )

    diagnosis = Diagnosis.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/records/diagnoses/{diagnosis.pk}/"
    assert (diagnosis.side, diagnosis.diagnosed_on) == ("right", date(2021, 3, 4))
    page = client.get(response["Location"]).content.decode()
    assert "G51.31" in page
    assert "13753008" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": ""}, diagnoses.LABEL_REQUIRED),
        ({"label": "x" * 201}, diagnoses.LABEL_TOO_LONG),
        ({"label": "a\x00b"}, NUL_CHARACTER),
        ({"diagnosed_on": "31/02/2020"}, diagnoses.BAD_DATE),
        ({"diagnosed_on": "soon"}, diagnoses.BAD_DATE),
        ({"diagnosed_on": ""}, diagnoses.BAD_DATE),
        ({"diagnosed_on": "01/01/1900"}, diagnoses.DIAGNOSED_BEFORE_BIRTH),
        ({"diagnosed_on": "01/01/2999"}, diagnoses.DIAGNOSED_IN_FUTURE),
        ({"verification_status": "refuted"}, diagnoses.BAD_VERIFICATION_STATUS),
    ],
)
def test_bad_input_on_the_page_is_400_with_the_message(client, clinician, patient, data, message):
    sign_in(client, clinician)
    values = {
        "label": "Essential tremor",
        "diagnosed_on": "01/05/2020",
        "verification_status": "confirmed",
    } | data

    response = client.post(f"/records/patients/{patient.pk}/diagnoses/other/new/", values)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not Diagnosis.objects.exists()


def test_a_bad_side_on_the_page_is_400(client, clinician, patient):
    sign_in(client, clinician)
    response = client.post(
        f"/records/patients/{patient.pk}/diagnoses/hemifacial-spasm/new/",
        {"side": "middle", "diagnosed_on": "01/05/2020", "verification_status": "confirmed"},
    )

    assert response.status_code == 400
    assert escape(diagnoses.BAD_SIDE) in response.content.decode()


def test_markup_in_a_label_is_shown_as_text(client, clinician, patient):
    diagnosis = _other(clinician, patient, label=SCRIPT)
    sign_in(client, clinician)

    for path in [f"/records/diagnoses/{diagnosis.pk}/", f"/records/patients/{patient.pk}/"]:
        page = client.get(path).content.decode()
        assert SCRIPT not in page
        assert escape(SCRIPT) in page


def test_the_status_page_changes_the_status_and_refuses_bad_dates(client, clinician, patient):
    diagnosis = _other(clinician, patient)
    sign_in(client, clinician)
    path = f"/records/diagnoses/{diagnosis.pk}/"

    bad = client.post(
        path,
        {"clinical_status": "resolved", "verification_status": "confirmed", "resolved_on": ""},
    )
    assert bad.status_code == 400
    assert escape(diagnoses.RESOLVED_REQUIRED) in bad.content.decode()
    good = client.post(
        path,
        {
            "clinical_status": "resolved",
            "verification_status": "confirmed",
            "resolved_on": "2022-02-02",
        },
    )
    assert good.status_code == 302
    diagnosis.refresh_from_db()
    assert diagnosis.resolved_on == date(2022, 2, 2)
    invalid = client.post(path, {"clinical_status": "gone", "verification_status": "x"})
    assert invalid.status_code == 400


def test_an_entered_in_error_diagnosis_is_struck_through_with_no_form(client, clinician, patient):
    diagnosis = _other(clinician, patient)
    _change(clinician, diagnosis, clinical_status="active", verification_status="entered-in-error")
    sign_in(client, clinician)

    page = client.get(f"/records/diagnoses/{diagnosis.pk}/").content.decode()
    listing = client.get(f"/records/patients/{patient.pk}/").content.decode()
    refused = client.post(
        f"/records/diagnoses/{diagnosis.pk}/",
        {"clinical_status": "active", "verification_status": "confirmed"},
    )

    assert "<del>Essential tremor</del>" in page
    assert "Change status" not in page
    assert "Entered in error" in listing
    assert refused.status_code == 409


def test_the_patient_page_shows_the_problem_list_to_clinicians_only(client, clinician, patient):
    review = review_for(encounter_for(patient, clinician), regions=("neck", "upper_face"))
    _hfs(clinician, patient, side="left")
    sign_in(client, clinician)

    page = client.get(f"/records/patients/{patient.pk}/").content.decode()

    assert "Problem list" in page
    assert "ICD-10 G51.3" in page
    assert "ICD-10-CM G51.32" in page
    assert "Hemifacial spasm (not a dystonia), left" in page
    assert f"/records/classification-reviews/{review.pk}/add-to-problem-list/" in page
    assert f"/records/patients/{patient.pk}/timeline/" in page

    sign_in(client, factories.user(role=Role.RECEPTION))
    page = client.get(f"/records/patients/{patient.pk}/").content.decode()
    assert "Problem list" not in page
    assert "G51" not in page
    assert "/timeline/" not in page


def test_a_clinician_adds_a_classification_from_its_page(client, clinician, patient):
    review = review_for(encounter_for(patient, clinician), regions=("neck", "upper_face"))
    sign_in(client, clinician)
    path = f"/records/classification-reviews/{review.pk}/add-to-problem-list/"

    shown = client.get(path).content.decode()
    added = client.post(path, {"diagnosed_on": "2024-01-02", "verification_status": "confirmed"})
    again = client.post(path, {"diagnosed_on": "2024-01-02", "verification_status": "confirmed"})

    assert SEGMENTAL_LABEL in shown
    assert "ICD-10 G24.3" in shown
    assert added.status_code == 302
    assert Diagnosis.objects.get().diagnosed_on == date(2024, 1, 2)
    assert again.status_code == 409
    assert escape(diagnoses.ALREADY_ON_LIST) in again.content.decode()
    page = client.get(f"/records/patients/{patient.pk}/").content.decode()
    assert "add-to-problem-list" not in page  # no longer offered


def test_the_date_of_a_classification_defaults_to_its_encounter(client, clinician, patient):
    started = datetime.combine(date(2023, 6, 7), time(10), clinic_tz())
    review = review_for(encounter_for(patient, clinician, started_at=started))
    sign_in(client, clinician)

    page = client.get(f"/records/classification-reviews/{review.pk}/add-to-problem-list/")

    assert 'value="2023-06-07"' in page.content.decode()


def test_the_problem_list_takes_the_same_queries_however_long(client, clinician):
    sign_in(client, clinician)
    client.get(f"/records/patients/{factories.patient().pk}/")  # the session warmed
    counts = []
    for n in (1, 10):
        patient = factories.patient()
        for _ in range(n):
            _hfs(clinician, patient)
            review_for(encounter_for(patient, clinician))
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"/records/patients/{patient.pk}/").content.decode()
        assert page.count("add-to-problem-list") == n
        counts.append(len(queries))

    assert counts[0] == counts[1]
