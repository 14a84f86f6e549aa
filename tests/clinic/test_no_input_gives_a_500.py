"""No input a client can send gives a 500 (DESIGN.md): generated JSON bodies, broken JSON and
generated query strings against every API endpoint, and generated posts against the pages'
forms, as the role that may use them. Whatever comes back is a 2xx, a redirect or a 4xx, and
a 4xx writes nothing."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django import forms as django_forms
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.enquiries.models import Enquiry
from clinic.records.classification import refresh_review
from clinic.records.diagnosis_forms import (
    DiagnosisStatusForm,
    FromReviewForm,
    HemifacialSpasmForm,
    OtherDiagnosisForm,
    TimelineFilterForm,
)
from clinic.records.examination import SITES
from clinic.records.examination_forms import DecisionForm, ExaminationForm
from clinic.records.history_forms import DrugForm, DrugStopForm, HistoryForm, RelativeForm
from clinic.records.letter_forms import LetterAddressingForm, LetterEditForm, LetterSendForm
from clinic.records.merge_forms import MergeForm
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
    ReviewDecision,
)
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import (
    Appointment,
    OpenFollowUp,
    Recall,
    RecallContact,
    WaitlistEntry,
)
from dystonia.assessment import assess, assessment_document
from dystonia.findings import findings_from_document
from tests import factories
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


# --- The clinical record's pages: the HTML forms, posted as a browser would -----------------
# Each post starts from values the page itself would send, then breaks a few fields (missing,
# or one of the values below), so that most posts get past the form into the service's rules.

TOMORROW = local_today() + timedelta(days=1)
# Placeholders, replaced before posting: by the version of the row the form is about (its
# updated_at, as the page carries it), or by the two records a merge is about.
CURRENT, KEEP, DUPLICATE = "<current>", "<keep>", "<duplicate>"
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x01\x08\x0b\x1b[2J\x7f",
    "\r\n\t",
    "\u202e\ufeff\u200b",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ request }}{% debug %}",
    "' OR 1=1 --",
    "x" * 10_001,
    "é" * 5_001,
    "-1",
    "-0",
    "1.5",
    "1e309",
    "NaN",
    "-99999999999",
    "9" * 30,
    "9" * 5_000,
    "2026-02-30",
    "31/02/2026",
    "0000-00-00",
    "0001-01-01",
    "01/01/0001",
    "9999-12-31",
    "31/12/9999",
    "1899-12-31",
    TOMORROW.isoformat(),
    TOMORROW.strftime("%d/%m/%Y"),
    "2026-12-01T09:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2020-01-01T00:00:00+00:00",
    "on",
    "false",
    "new",
    CURRENT,
    KEEP,
    DUPLICATE,
]
PAGE_VALUE = st.text(max_size=300) | st.sampled_from(NASTY)
# A list posts the field several times (as a multiple choice does).
PAGE_VALUES = PAGE_VALUE | st.lists(PAGE_VALUE, max_size=3)
PAGE_TABLES = (*CLINICAL_TABLES, Encounter, Addendum, Patient)
OTHER_TABLES = (
    Appointment,
    Enquiry,
    WaitlistEntry,
    Recall,
    RecallContact,
    OpenFollowUp,
    NextOfKin,
    PatientAlert,
)
# Each post renders a whole page: half the examples keep the file under a minute
# (FUZZ_EXAMPLES raises both).
PAGE_FUZZ = settings(FUZZ, max_examples=max(10, FUZZ.max_examples // 2))
Strategies = dict[str, st.SearchStrategy[object]]


# What the page sends for fields of these kinds (and a blank one when it is optional).
USUAL: list[tuple[type[django_forms.Field], list[str]]] = [
    (django_forms.BooleanField, ["on", ""]),
    (django_forms.DateField, ["2021-06-01", "01/06/2021"]),
    (django_forms.IntegerField, ["30", "0"]),
]


def _usual(field: django_forms.Field) -> st.SearchStrategy[object]:
    """What the page sends for a field: a choice it offers, a tick, a date, some words."""
    blank = [] if field.required else [""]
    if isinstance(field, django_forms.MultipleChoiceField):
        offered = [str(value) for value, _ in field.choices]
        return st.lists(st.sampled_from(offered), unique=True, max_size=3)
    if isinstance(field, django_forms.ChoiceField):
        return st.sampled_from([*(str(value) for value, _ in field.choices if value), *blank])
    for kind, values in USUAL:
        if isinstance(field, kind):
            return st.sampled_from([*values, *blank])
    if isinstance(field.widget, django_forms.HiddenInput):
        return st.just(CURRENT)
    return st.sampled_from(["Written in plain words.", *blank])


def _fields(form: django_forms.Form | None, **others: st.SearchStrategy[object]) -> Strategies:
    """The form's fields as the page sends them, with ``others`` added or instead."""
    usual = {name: _usual(field) for name, field in form.fields.items()} if form else {}
    return usual | others


def _form_data(data: st.DataObject, fields: Strategies, placeholders: dict[str, str]) -> dict:
    """The usual values with up to three fields missing or bad, placeholders replaced."""
    posted = {name: data.draw(strategy) for name, strategy in fields.items()}
    some = st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)
    for name in data.draw(some) if fields else []:
        value = data.draw(st.none() | PAGE_VALUES)
        if value is None:
            del posted[name]
        else:
            posted[name] = value

    def placed(value: object) -> object:
        if isinstance(value, list):
            return [placed(item) for item in value]
        return placeholders.get(value, value) if isinstance(value, str) else value

    return {name: placed(value) for name, value in posted.items()}


def _page_state() -> tuple[list[int], list[list[dict]]]:
    """How many rows the clinic's other tables hold, and every row of PAGE_TABLES."""
    others = [model.objects.count() for model in OTHER_TABLES]
    return others, [list(model.objects.order_by("pk").values()) for model in PAGE_TABLES]


def _page_is_safe(client, method: str, url: str, form: dict) -> None:
    """No 500; a refusal (and any GET) writes nothing: every clinical row, encounter and patient
    is as it was, and no row was added anywhere else the clinic counts."""
    before = _page_state()

    response = getattr(client, method)(url, form)

    shown = {name: repr(value)[:80] for name, value in form.items()}
    assert response.status_code < 500, (method, url, shown)
    if response.status_code >= 400 or method == "get":
        assert _page_state() == before, (method, url, shown)


def _draft(calendar, clinician) -> Encounter:  # noqa: F811 - the fixture
    return Encounter.objects.filter(signed_at__isnull=True).first() or Encounter.objects.create(
        patient=calendar.patient,
        kind="consultation",
        clinician=clinician,
        site=calendar.site,
        started_at=timezone.now(),
    )


def _version(row: History | Examination | Letter | None, none: str) -> str:
    return row.updated_at.isoformat() if row is not None else none


HISTORY_PAGES = {
    # A side only for a limb: mostly none, so that most posts can be saved.
    ("post", "/records/encounters/{encounter}/history/"): _fields(
        HistoryForm(), first_side=st.sampled_from(["", "", "", "left", "right"])
    ),
    ("post", "/records/patients/{patient}/relatives/new/"): _fields(RelativeForm()),
    ("post", "/records/relatives/{relative}/edit/"): _fields(RelativeForm()),
    ("post", "/records/relatives/{relative}/remove/"): _fields(None, confirm=PAGE_VALUES),
    ("post", "/records/patients/{patient}/drugs/new/"): _fields(DrugForm()),
    ("post", "/records/drugs/{drug}/edit/"): _fields(DrugForm()),
    ("post", "/records/drugs/{drug}/stop/"): _fields(DrugStopForm()),
    ("post", "/records/drugs/{drug}/remove/"): _fields(None, confirm=PAGE_VALUES),
}


@PAGE_FUZZ
@given(endpoint=st.sampled_from(sorted(HISTORY_PAGES)), data=st.data())
def test_the_history_pages_never_fail_with_a_500(
    client,
    staff,
    calendar,  # noqa: F811 - the fixture imported above
    endpoint,
    data,
):
    """The encounter's history and the family and drug history, posted by the clinician who
    owns the draft (after two-factor)."""
    method, path = endpoint
    clinician = staff[Role.CLINICIAN]
    encounter = _draft(calendar, clinician)
    ids = _record_rows(calendar, clinician, encounter)
    sign_in(client, clinician)
    current = _version(History.objects.filter(encounter=encounter).first(), "")
    form = _form_data(data, HISTORY_PAGES[endpoint], {CURRENT: current})

    url = path.format(patient=calendar.patient.pk, encounter=encounter.pk, **ids)
    _page_is_safe(client, method, url, form)


# A site's details count only when it is ticked: they are left empty unless broken.
NO_DETAILS = {
    f"{site.key}_{name}": st.just("")
    for site in SITES
    for name in ("posture", "movement", "tremor", "task_specific")
}
EXAMINATION_PAGES = {
    ("post", "/records/encounters/{encounter}/examination/"): _fields(
        ExaminationForm(), **NO_DETAILS
    ),
    ("post", "/records/classification-reviews/{review}/decide/"): _fields(DecisionForm()),
}


@PAGE_FUZZ
@given(endpoint=st.sampled_from(sorted(EXAMINATION_PAGES)), data=st.data())
def test_the_examination_pages_never_fail_with_a_500(
    client,
    staff,
    calendar,  # noqa: F811 - the fixture imported above
    endpoint,
    data,
):
    """The examination form and the decision on its classification (confirm or override),
    posted by the clinician who owns the draft."""
    method, path = endpoint
    clinician = staff[Role.CLINICIAN]
    encounter = _draft(calendar, clinician)
    # Findings that can be classified (an age at onset, an involved region), so the draft
    # has a current classification to decide; one the page's saves may then replace.
    History.objects.get_or_create(encounter=encounter, defaults={"age_at_onset_years": 45})
    if not Examination.objects.filter(encounter=encounter).exists():
        saved = Examination.objects.create(encounter=encounter)
        RegionFinding.objects.create(examination=saved, region="neck")
    review = refresh_review(encounter) or _review_of(encounter)
    sign_in(client, clinician)
    current = _version(Examination.objects.filter(encounter=encounter).first(), "new")
    form = _form_data(data, EXAMINATION_PAGES[endpoint], {CURRENT: current})

    url = path.format(encounter=encounter.pk, review=review.pk)
    _page_is_safe(client, method, url, form)


DIAGNOSIS_PAGES = {
    ("post", "/records/patients/{patient}/diagnoses/hemifacial-spasm/new/"): _fields(
        HemifacialSpasmForm()
    ),
    ("post", "/records/patients/{patient}/diagnoses/other/new/"): _fields(OtherDiagnosisForm()),
    ("post", "/records/classification-reviews/{decided}/add-to-problem-list/"): _fields(
        FromReviewForm(encounter_day=date(2021, 6, 1))
    ),
    ("post", "/records/diagnoses/{diagnosis}/"): _fields(DiagnosisStatusForm()),
    ("get", "/records/patients/{patient}/timeline/"): _fields(TimelineFilterForm()),
}


@PAGE_FUZZ
@given(endpoint=st.sampled_from(sorted(DIAGNOSIS_PAGES)), data=st.data())
def test_the_problem_list_pages_never_fail_with_a_500(
    client,
    staff,
    calendar,  # noqa: F811 - the fixture imported above
    endpoint,
    data,
):
    """The problem list (hemifacial spasm, another diagnosis, a decided classification, a
    diagnosis's status) and the timeline's filter, as a clinician."""
    method, path = endpoint
    clinician = staff[Role.CLINICIAN]
    ids = _record_rows(calendar, clinician, _draft(calendar, clinician))
    signed = Encounter.objects.get(pk=ids["signed"])
    decided = ClassificationReview.objects.filter(encounter=signed).first()
    if decided is None:
        decided = _review_of(signed)
        decided.decision = ReviewDecision.CONFIRMED
        decided.decided_by = clinician
        decided.decided_at = timezone.now()
        decided.save()
    sign_in(client, clinician)
    form = _form_data(data, DIAGNOSIS_PAGES[endpoint], {})

    url = path.format(patient=calendar.patient.pk, decided=decided.pk, **ids)
    _page_is_safe(client, method, url, form)


LETTER_PAGES = {
    ("post", "/records/encounters/{signed}/letters/new/"): _fields(LetterAddressingForm()),
    # A draft encounter: no letter yet (409).
    ("post", "/records/encounters/{encounter}/letters/new/"): _fields(LetterAddressingForm()),
    ("post", "/records/letters/{letter}/"): _fields(
        LetterEditForm(), then=st.sampled_from(["", "send"])
    ),
    ("post", "/records/letters/{letter}/send/"): _fields(LetterSendForm()),
}


@PAGE_FUZZ
@given(endpoint=st.sampled_from(sorted(LETTER_PAGES)), data=st.data())
def test_the_letter_pages_never_fail_with_a_500(
    client,
    staff,
    calendar,  # noqa: F811 - the fixture imported above
    endpoint,
    data,
):
    """Starting a letter, editing the draft and sending it, as its author."""
    method, path = endpoint
    clinician = staff[Role.CLINICIAN]
    encounter = _draft(calendar, clinician)
    ids = _record_rows(calendar, clinician, encounter)
    # Someone each addressee can be: a GP and a referrer on the record.
    Patient.objects.filter(pk=calendar.patient.pk).update(
        gp_name="Dr Ada Example",
        gp_practice="Example Surgery",
        gp_address="1 Example Road, Exampletown",
        referrer_name="Dr Ben Example",
        referrer_organisation="Example Hospital",
        referrer_address="2 Example Road, Exampletown",
    )
    sign_in(client, clinician)
    current = _version(Letter.objects.get(pk=ids["letter"]), "")
    form = _form_data(data, LETTER_PAGES[endpoint], {CURRENT: current})

    url = path.format(encounter=encounter.pk, **ids)
    _page_is_safe(client, method, url, form)


# The merge pages name the two records by hospital number (the form) or by id (the query).
MERGE_PAGES = {
    ("post", "/records/merge/"): _fields(
        None, keep_number=st.just(KEEP), duplicate_number=st.just(DUPLICATE)
    ),
    ("post", "/records/merge/compare/"): _fields(MergeForm()),
    ("get", "/records/merge/compare/"): {},
    ("get", "/records/merge/done/"): {},
}
MERGE_QUERY = st.sampled_from(NASTY) | st.text(max_size=30)


def _merge_pair() -> tuple[Patient, Patient]:
    """Two records of one person, neither merged yet (a new duplicate after each merge)."""
    pair = list(
        Patient.objects.filter(family_name="Twice", merged_into__isnull=True).order_by("pk")[:2]
    )
    while len(pair) < 2:
        pair.append(factories.patient(family_name="Twice", date_of_birth=date(1980, 5, 1)))
    return pair[0], pair[1]


@PAGE_FUZZ
@given(endpoint=st.sampled_from(sorted(MERGE_PAGES)), data=st.data())
def test_the_merge_pages_never_fail_with_a_500(client, staff, endpoint, data):
    """Choosing two records, comparing and merging them, and the result, as an administrator
    (after two-factor)."""
    method, path = endpoint
    first, second = _merge_pair()
    sign_in(client, staff[Role.ADMIN])
    ids = {KEEP: str(first.pk), DUPLICATE: str(second.pk)}
    numbers = {KEEP: first.hospital_number, DUPLICATE: second.hospital_number}
    form = _form_data(data, MERGE_PAGES[endpoint], numbers)
    keep = data.draw(st.just(KEEP) | MERGE_QUERY)
    duplicate = data.draw(st.just(DUPLICATE) | MERGE_QUERY)
    query = urlencode({"keep": ids.get(keep, keep), "duplicate": ids.get(duplicate, duplicate)})

    url = path if path == "/records/merge/" else f"{path}?{query}"
    _page_is_safe(client, method, url, form)
