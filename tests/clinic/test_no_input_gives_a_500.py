"""No input a client can send gives a 500 (DESIGN.md): generated JSON bodies, broken JSON and
generated query strings against every API endpoint, as the role that may use it. Whatever
comes back is a 2xx or a 4xx, and a 4xx writes nothing."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.enquiries.models import Enquiry
from clinic.records.models import (
    Addendum,
    ClassificationReview,
    Diagnosis,
    DrugExposure,
    Encounter,
    Examination,
    FamilyMember,
    History,
    Letter,
    NextOfKin,
    Patient,
    PatientAlert,
    RegionFinding,
)
from clinic.scheduling.models import (
    Appointment,
    OpenFollowUp,
    Recall,
    RecallContact,
    WaitlistEntry,
)
from dystonia.assessment import assess, assessment_document
from dystonia.findings import findings_from_document
from tests.clinic.scheduling.conftest import (  # the booking fixture
    calendar,  # noqa: F401
    next_weekday,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=300)
    | st.sampled_from(
        [
            "",
            "toxin",
            "test-site",
            "2026-13-45T25:61:00Z",
            "2026-12-01T09:00:00",
            "<script>alert(1)</script>",
            "../../etc/passwd",
            "' OR 1=1 --",
            "\x00",
            "9" * 400,
            "x" * 10_000,
        ]
    )
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=8,
)


def _bodies(fields: list[str]) -> st.SearchStrategy[bytes]:
    """Objects with some of the endpoint's own fields (so validation goes deep), any JSON at
    all, and bytes that are not JSON."""
    objects = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, JSON_VALUES))
    as_json = (objects | JSON_VALUES).map(lambda value: json.dumps(value).encode())
    return as_json | st.binary(max_size=200)


def _writes() -> tuple[int, ...]:
    return (
        Appointment.objects.count(),
        Patient.objects.count(),
        Enquiry.objects.count(),
        WaitlistEntry.objects.count(),
        Recall.objects.count(),
        RecallContact.objects.count(),
        OpenFollowUp.objects.count(),
        NextOfKin.objects.count(),
        PatientAlert.objects.count(),
        History.objects.count(),
        Examination.objects.count(),
        RegionFinding.objects.count(),
        ClassificationReview.objects.count(),
        FamilyMember.objects.count(),
        DrugExposure.objects.count(),
        Diagnosis.objects.count(),
        Letter.objects.count(),
    )


# The clinical record's rows an API call may change, in full: a 4xx leaves them as they were.
CLINICAL_TABLES = (
    History,
    Examination,
    RegionFinding,
    ClassificationReview,
    FamilyMember,
    DrugExposure,
    Diagnosis,
    Letter,
)


def _clinical_rows() -> list[list[dict]]:
    return [list(model.objects.order_by("pk").values()) for model in CLINICAL_TABLES]


def _post_is_safe(client, path: str, body: bytes) -> None:
    before = _writes()
    response = client.post(path, body, content_type="application/json")
    assert response.status_code < 500, (path, body, response.content[:300])
    if response.status_code >= 400:
        assert _writes() == before
        assert response["Content-Type"].startswith("application/json")


BOOK_FIELDS = ["service", "site", "practitioner", "start", "patient_id", "overbook_reason"]
PATIENT_FIELDS = [
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "email",
    "phone",
    "address",
    "postcode",
]


@pytest.mark.usefixtures("calendar")
@FUZZ
@given(body=_bodies(BOOK_FIELDS))
def test_booking_never_fails_with_a_500(client, patient_user, body):
    sign_in(client, patient_user, second_factor=False)
    _post_is_safe(client, "/api/v1/appointments", body)


@pytest.mark.usefixtures("calendar")
@FUZZ
@given(body=_bodies(["start", "site", "practitioner", "reason"]), appointment_id=st.integers())
def test_moving_and_cancelling_never_fail_with_a_500(client, patient_user, body, appointment_id):
    sign_in(client, patient_user, second_factor=False)
    # Ids outside what a URL route accepts are 404 before any code of ours runs.
    appointment_id = abs(appointment_id) % 10**12
    for action in ("reschedule", "cancel"):
        _post_is_safe(client, f"/api/v1/appointments/{appointment_id}/{action}", body)


@FUZZ
@given(body=_bodies(PATIENT_FIELDS))
def test_registering_a_patient_never_fails_with_a_500(client, staff, body):
    sign_in(client, staff[Role.RECEPTION])
    _post_is_safe(client, "/api/v1/patients", body)


QUERY_PARAMETERS = {
    "/api/v1/slots": ["service", "site", "practitioner", "date_from", "date_to"],
    "/api/v1/slots/first": ["service", "site", "practitioner"],
    "/api/v1/sites": ["service", "limit", "offset"],
    "/api/v1/practitioners": ["site", "specialty", "q", "limit", "offset"],
    "/api/v1/services": ["site", "limit", "offset"],
    "/api/v1/patients": ["q", "limit", "offset"],
    "/appointments/recalls/": ["site", "practitioner", "service", "due_by", "status", "page"],
    "/appointments/waitlist/": ["service"],
}


@pytest.mark.usefixtures("calendar")
@FUZZ
@given(
    path=st.sampled_from(sorted(QUERY_PARAMETERS)),
    values=st.lists(
        st.text(max_size=400)
        | st.integers().map(str)
        | st.sampled_from(["\x00", "2026-02-30", "-1", "9" * 30, "today", "%00", "a-b-"]),
        min_size=5,
        max_size=5,
    ),
)
def test_searches_never_fail_with_a_500(client, staff, path, values):
    sign_in(client, staff[Role.RECEPTION])
    params = dict(zip(QUERY_PARAMETERS[path], values, strict=False))

    response = client.get(path, params)

    assert response.status_code < 500, (path, params, response.content[:300])


FORMS = {
    "/enquiries/query/": (
        None,
        ["sender_name", "sender_email", "sender_phone", "topic", "message", "website", "started"],
    ),
    "/appointments/book/confirm/": (
        Role.PATIENT,
        ["service", "site", "practitioner", "start", "patient", "reschedule", "overbook_reason"],
    ),
    "/records/patients/new/": (Role.RECEPTION, PATIENT_FIELDS),
    "/appointments/waitlist/join/": (
        Role.PATIENT,
        [
            "service",
            "sites",
            "earliest_date",
            "latest_date",
            "earliest_time",
            "latest_time",
            "note",
        ],
    ),
}
FORM_VALUES = st.text(max_size=300) | st.sampled_from(
    ["", "toxin", "test-site", "dr-test", "2026-12-01T09:00:00+0000", "<script>", "\x00", "-1"]
)


@pytest.mark.usefixtures("calendar")
@FUZZ
@given(path=st.sampled_from(sorted(FORMS)), values=st.lists(FORM_VALUES, min_size=8, max_size=8))
def test_forms_never_fail_with_a_500(client, staff, patient_user, path, values):
    role, fields = FORMS[path]
    if role is Role.PATIENT:
        sign_in(client, patient_user, second_factor=False)
    elif role is not None:
        sign_in(client, staff[role])
    before = _writes()

    response = client.post(path, dict(zip(fields, values, strict=False)))

    assert response.status_code < 500, (path, values)
    if response.status_code >= 400:
        assert _writes() == before


STAFF_FORMS = {
    "/appointments/recalls/new/{patient}/": (
        Role.RECEPTION,
        ["service", "due_by", "site", "practitioner", "reason"],
    ),
    "/appointments/recalls/{recall}/contact/": (Role.RECEPTION, ["method", "outcome", "note"]),
    "/appointments/recalls/{recall}/close/": (Role.RECEPTION, ["reason"]),
    "/appointments/follow-up/new/{patient}/": (
        Role.CLINICIAN,
        ["service", "earliest_date", "ends_on", "note"],
    ),
    "/records/patients/{patient}/next-of-kin/new/": (
        Role.RECEPTION,
        ["name", "relationship", "phone", "email", "is_emergency_contact"],
    ),
    "/records/patients/{patient}/alerts/new/": (Role.CLINICIAN, ["kind", "detail"]),
}


@FUZZ
@given(
    path=st.sampled_from(sorted(STAFF_FORMS)),
    values=st.lists(FORM_VALUES, min_size=5, max_size=5),
)
def test_patient_and_recall_forms_never_fail_with_a_500(
    client,
    staff,
    calendar,  # noqa: F811 - the fixture imported above
    path,
    values,
):
    """The forms about one patient (next of kin, alerts, recalls, follow-up) or one recall,
    posted by the staff role that uses them."""
    role, fields = STAFF_FORMS[path]
    recall = Recall.objects.filter(status="open").first() or Recall.objects.create(
        patient=calendar.patient,
        service=calendar.service,
        due_by=calendar.at(next_weekday(0), 9).date(),
        created_by=staff[Role.RECEPTION],
    )
    sign_in(client, staff[role])
    before = _writes()

    url = path.format(patient=calendar.patient.pk, recall=recall.pk)
    response = client.post(url, dict(zip(fields, values, strict=False)))

    assert response.status_code < 500, (url, values)
    if response.status_code >= 400:
        assert _writes() == before


ENCOUNTER_FORMS = {
    "/records/patients/{patient}/encounters/new/": ["kind", "site", "date", "time", "notes"],
    "/records/encounters/{encounter}/": ["notes", "updated_at"],
    "/records/encounters/{encounter}/sign/": ["updated_at"],
    "/records/encounters/{encounter}/addenda/new/": ["text"],
}


@FUZZ
@given(
    path=st.sampled_from(sorted(ENCOUNTER_FORMS)),
    values=st.lists(FORM_VALUES, min_size=5, max_size=5),
)
def test_encounter_forms_never_fail_with_a_500(
    client,
    staff,
    calendar,  # noqa: F811 - the fixture imported above
    path,
    values,
):
    """The clinical forms, posted by the clinician who owns the encounter."""
    clinician = staff[Role.CLINICIAN]
    encounter = Encounter.objects.filter(
        signed_at__isnull=True
    ).first() or Encounter.objects.create(
        patient=calendar.patient,
        kind="consultation",
        clinician=clinician,
        site=calendar.site,
        started_at=timezone.now(),
    )
    sign_in(client, clinician)
    before = (Encounter.objects.count(), Addendum.objects.count(), _writes())
    notes_before = Encounter.objects.get(pk=encounter.pk).notes

    url = path.format(patient=calendar.patient.pk, encounter=encounter.pk)
    response = client.post(url, dict(zip(ENCOUNTER_FORMS[path], values, strict=False)))

    assert response.status_code < 500, (url, values)
    if response.status_code >= 400:
        assert (Encounter.objects.count(), Addendum.objects.count(), _writes()) == before
        assert Encounter.objects.get(pk=encounter.pk).notes == notes_before


RELATIVE_FIELDS = ["relationship", "condition", "has_dystonia", "age_at_onset_years", "notes"]
DRUG_FIELDS = ["drug", "dopamine_receptor_blocker", "started_on", "stopped_on", "notes"]
CLINICAL_API = {
    ("post", "/api/v1/patients/{patient}/encounters"): [
        "kind",
        "site_id",
        "appointment_id",
        "started_at",
        "notes",
    ],
    ("put", "/api/v1/encounters/{encounter}/notes"): ["notes", "updated_at"],
    ("post", "/api/v1/encounters/{encounter}/sign"): ["updated_at"],
    ("post", "/api/v1/encounters/{encounter}/addenda"): ["text"],
    ("post", "/api/v1/patients/{patient}/alerts"): ["kind", "detail"],
    ("post", "/api/v1/patients/{patient}/next-of-kin"): [
        "name",
        "relationship",
        "phone",
        "email",
        "is_emergency_contact",
    ],
    ("put", "/api/v1/encounters/{encounter}/history"): [
        "presenting_complaint",
        "age_at_onset_years",
        "first_region",
        "first_side",
        "course",
        "variability",
        "triggers",
        "updated_at",
    ],
    ("post", "/api/v1/patients/{patient}/relatives"): RELATIVE_FIELDS,
    ("put", "/api/v1/relatives/{relative}"): RELATIVE_FIELDS,
    ("post", "/api/v1/patients/{patient}/drugs"): DRUG_FIELDS,
    ("put", "/api/v1/drugs/{drug}"): DRUG_FIELDS,
    ("post", "/api/v1/drugs/{drug}/stop"): ["stopped_on"],
    ("put", "/api/v1/encounters/{encounter}/examination"): [
        "sites",
        "associated_features",
        "notes",
        "updated_at",
    ],
    ("post", "/api/v1/classification-reviews/{review}/confirm"): [],
    ("post", "/api/v1/classification-reviews/{review}/override"): [
        "distribution",
        "reason",
        "statement",
    ],
    ("post", "/api/v1/patients/{patient}/diagnoses"): [
        "from_review",
        "kind",
        "side",
        "label",
        "diagnosed_on",
        "verification_status",
        "encounter_id",
    ],
    ("post", "/api/v1/diagnoses/{diagnosis}/status"): [
        "clinical_status",
        "verification_status",
        "resolved_on",
    ],
    ("post", "/api/v1/encounters/{signed}/letters"): ["to_gp", "to_referrer", "copy_to_patient"],
    ("put", "/api/v1/letters/{letter}"): [
        "to_gp",
        "to_referrer",
        "copy_to_patient",
        "plan",
        "comments",
        "updated_at",
    ],
    ("post", "/api/v1/letters/{letter}/send"): ["updated_at"],
}


def _record_rows(calendar, clinician, encounter) -> dict[str, int]:  # noqa: F811 - the fixture
    """One of each row the clinical endpoints name by id, made once per test: a relative, a
    medicine, a classification review of the draft, a diagnosis, a signed encounter and a
    draft letter about it (another if the one before was sent)."""
    patient = calendar.patient
    relative = FamilyMember.objects.first() or FamilyMember.objects.create(
        patient=patient, relationship="mother", condition="Tremor", recorded_by=clinician
    )
    drug = DrugExposure.objects.first() or DrugExposure.objects.create(
        patient=patient, drug="Levodopa", recorded_by=clinician
    )
    review = ClassificationReview.objects.first() or _review_of(encounter)
    diagnosis = Diagnosis.objects.first() or Diagnosis.objects.create(
        patient=patient,
        kind="other",
        label="Essential tremor",
        diagnosed_on=date(2020, 1, 1),
        recorded_by=clinician,
    )
    signed = Encounter.objects.filter(signed_at__isnull=False).first()
    if signed is None:
        now = timezone.now()
        signed = Encounter.objects.create(
            patient=patient,
            kind="consultation",
            clinician=clinician,
            site=calendar.site,
            started_at=now,
            signed_at=now,
            signed_by=clinician,
        )
    letter = Letter.objects.filter(status="draft").first() or Letter.objects.create(
        encounter=signed,
        patient=patient,
        to_gp=False,
        to_referrer=False,
        copy_to_patient=True,
        author=clinician,
    )
    return {
        "relative": relative.pk,
        "drug": drug.pk,
        "review": review.pk,
        "diagnosis": diagnosis.pk,
        "signed": signed.pk,
        "letter": letter.pk,
    }


def _review_of(encounter) -> ClassificationReview:
    document = {"age_at_onset_years": 45, "regions": [{"region": "neck"}]}
    assessment = assessment_document(assess(findings_from_document(document)))
    return ClassificationReview.objects.create(
        encounter=encounter,
        findings=document,
        assessment=assessment,
        classification_version=assessment["classification_version"],
        distribution=assessment["distribution"],
        forms=" ".join(assessment["forms"]),
    )


@FUZZ
@given(endpoint=st.sampled_from(sorted(CLINICAL_API)), data=st.data())
def test_the_clinical_api_never_fails_with_a_500(
    client,
    staff,
    calendar,  # noqa: F811 - the fixture imported above
    endpoint,
    data,
):
    """The clinical record's JSON endpoints, called by the clinician who owns the draft."""
    method, path = endpoint
    clinician = staff[Role.CLINICIAN]
    encounter = Encounter.objects.filter(
        signed_at__isnull=True
    ).first() or Encounter.objects.create(
        patient=calendar.patient,
        kind="consultation",
        clinician=clinician,
        site=calendar.site,
        started_at=timezone.now(),
    )
    ids = _record_rows(calendar, clinician, encounter)
    sign_in(client, clinician)
    body = data.draw(_bodies(CLINICAL_API[endpoint]))
    before = (Encounter.objects.count(), Addendum.objects.count(), _writes())
    notes_before = Encounter.objects.get(pk=encounter.pk).notes
    rows_before = _clinical_rows()

    url = path.format(patient=calendar.patient.pk, encounter=encounter.pk, **ids)
    response = getattr(client, method)(url, body, content_type="application/json")

    assert response.status_code < 500, (url, body, response.content[:300])
    if response.status_code >= 400:
        assert (Encounter.objects.count(), Addendum.objects.count(), _writes()) == before
        assert Encounter.objects.get(pk=encounter.pk).notes == notes_before
        assert _clinical_rows() == rows_before
        assert response["Content-Type"].startswith("application/json")
