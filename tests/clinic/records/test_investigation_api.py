"""Investigations over the JSON API: the same services as the pages, so the same rules,
access and audit (channel API); strict input types; every refusal in the one error shape with
nothing written; no input gives a 500."""

from __future__ import annotations

import json
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditChannel, AuditEntry
from clinic.records import investigation_rules as rules
from clinic.records import investigations
from clinic.records.models import (
    ClassificationReview,
    Investigation,
    InvestigationAttachment,
    Patient,
)
from clinic.scheduling.availability import local_today
from dystonia.labs.wilson import NOT_EXCLUDED
from tests import factories
from tests.clinic.records.test_investigation_attachments import PDF
from tests.clinic.records.test_investigations import BORN, decided_review, order
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

JSON = "application/json"
TODAY = local_today().isoformat()
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")) // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.INVESTIGATION_REPORTS_ROOT = tmp_path / "reports"


@pytest.fixture
def unit(db, staff):
    patient_user = factories.user(role=Role.PATIENT)
    return {
        "clinician": factories.user(role=Role.CLINICIAN, full_name="Dr Ann"),
        "patient": factories.patient(user=patient_user, date_of_birth=BORN),
        "patient_user": patient_user,
        "staff": staff,
    }


@pytest.fixture
def api(client, unit):
    return sign_in(client, unit["clinician"])


def _post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type=JSON, headers=headers)


def _patient_url(unit, rest=""):
    return f"/api/v1/patients/{unit['patient'].pk}/{rest}"


def _result(api, investigation, **body):
    return _post(
        api, f"/api/v1/investigations/{investigation.pk}/result", {"resulted_on": TODAY} | body
    )


def _parameters(response) -> list[str]:
    return [error["parameter"] for error in response.json()["errors"]]


# The rules, through the API


def test_order_then_result_a_low_caeruloplasmin_in_mg_per_dl(api, unit):
    ordered = _post(
        api, _patient_url(unit, "investigations"), {"kind": "caeruloplasmin", "ordered_on": TODAY}
    )
    made = Investigation.objects.get()

    resulted = _result(api, made, value=9, unit="mg/dL")

    assert ordered.status_code == 201
    assert ordered.json()["status"] == "ordered"
    assert resulted.status_code == 200
    body = resulted.json()
    assert (body["value"], body["unit"], body["entered_value"], body["entered_unit"]) == (
        0.09,
        "g/L",
        9.0,
        "mg/dL",
    )
    assert (body["flag"], body["leipzig_points"], body["summary"]) == (
        "low",
        2,
        "9 mg/dL (0.09 g/L)",
    )
    assert (body["reference_low"], body["reference_high"]) == (0.2, 0.5)
    assert AuditEntry.objects.filter(
        channel=AuditChannel.API, detail="investigation resulted"
    ).exists()


def test_a_normal_caeruloplasmin_and_a_high_urinary_copper(api, unit):
    normal = _result(api, order(unit), value=0.25, unit="g/L").json()
    urine = _result(api, order(unit, "urinary_copper_24h"), value=1.7, unit="µmol/24 h").json()

    assert normal["flag"] == "normal"
    assert NOT_EXCLUDED in normal["interpretation"]
    assert urine["flag"] == "high"


def test_the_workup_lists_wilson_still_to_exclude_and_orders_from_it_once(api, unit):
    decided_review(unit["patient"], unit["clinician"])

    workup = api.get(_patient_url(unit, "workup")).json()
    wilson = workup["items"][0]
    key = wilson["investigations"][0]["key"]
    first = _post(api, _patient_url(unit, "workup/orders"), {"item": wilson["id"], "key": key})
    again = _post(api, _patient_url(unit, "workup/orders"), {"item": wilson["id"], "key": key})
    after = api.get(_patient_url(unit, "workup")).json()["items"][0]

    assert (wilson["id"], wilson["still_to_exclude"]) == ("wilson_disease", True)
    assert [line["state"] for line in wilson["investigations"]] == ["not_ordered"] * 3
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert after["investigations"][0]["state"] == "ordered"
    assert after["investigations"][0]["investigation_id"] == first.json()["id"]
    assert after["still_to_exclude"] is True
    assert Investigation.objects.count() == 1


def test_an_advised_investigation_no_longer_listed_is_409(api, unit):
    decided_review(unit["patient"], unit["clinician"])

    response = _post(
        api, _patient_url(unit, "workup/orders"), {"item": "wilson_disease", "key": "mri:"}
    )

    assert response.status_code == 409
    assert response.json()["detail"] == investigations.ADVICE_CHANGED
    assert not Investigation.objects.exists()


def test_list_and_read_one_with_its_reports(api, unit):
    made = order(unit, "mri")
    attached = api.post(
        f"/api/v1/investigations/{made.pk}/reports",
        {"report": SimpleUploadedFile("mri.pdf", PDF)},
    )

    listed = api.get(_patient_url(unit, "investigations")).json()
    one = api.get(f"/api/v1/investigations/{made.pk}").json()
    download = api.get(attached.json()["url"])

    assert attached.status_code == 201
    assert [row["id"] for row in listed] == [made.pk]
    assert listed[0]["reports"] is None
    assert [report["name"] for report in one["reports"]] == ["mri.pdf"]
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(channel=AuditChannel.API, action="export").count() == 1


def test_a_bad_report_is_422_naming_it_and_nothing_written(api, unit):
    made = order(unit, "mri")

    response = api.post(
        f"/api/v1/investigations/{made.pk}/reports",
        {"report": SimpleUploadedFile("x.pdf", b"<html></html>")},
    )
    missing = api.post(f"/api/v1/investigations/{made.pk}/reports", {})

    assert response.status_code == 422
    assert _parameters(response) == ["report"]
    assert missing.status_code == 422
    assert not InvestigationAttachment.objects.exists()


# Bad input


@pytest.mark.parametrize(
    ("body", "parameter", "message"),
    [
        ({"value": "0.2", "unit": "g/L"}, "value", None),
        ({"value": True, "unit": "g/L"}, "value", None),
        ({"value": 10**400, "unit": "g/L"}, "value", None),
        ({"value": 0.2}, "unit", rules.UNIT_REQUIRED.format(units="g/L, mg/dL, mg/L")),
        ({"value": 0.2, "unit": "mmol/L"}, "unit", None),
        ({"value": -0.2, "unit": "g/L"}, "value", rules.NEGATIVE),
        ({"unit": "g/L"}, "value", rules.VALUE_REQUIRED),
        ({"value": 0.2, "unit": "g/L", "resulted_on": 20240308}, "resulted_on", None),
        ({"value": 0.2, "unit": "g/L", "resulted_on": "08/03/2024"}, "resulted_on", None),
        ({"value": 0.2, "unit": "g/L", "resulted_on": "2024-02-01"}, "resulted_on", None),
        ({"value": 0.2, "unit": "g/L", "kf_rings": True}, "kf_rings", None),
        ({"value": 0.2, "unit": "g/L", "report": "x" * 20_001}, "report", None),
        ({"value": 0.2, "unit": "g/L", "report": "\x00"}, "report", None),
        ({"value": 0.2, "unit": "g/L", "levodopa_response": "great"}, "levodopa_response", None),
    ],
)
def test_a_bad_result_is_422_naming_the_parameter_and_nothing_written(
    api, unit, body, parameter, message
):
    made = order(unit)
    before = Investigation.objects.filter(pk=made.pk).values().get()

    response = _result(api, made, **body)

    assert response.status_code == 422
    assert parameter in _parameters(response)
    if message:
        assert response.json()["detail"] == message
    assert Investigation.objects.filter(pk=made.pk).values().get() == before


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"kind": "bloods", "ordered_on": TODAY}, "kind"),
        ({"ordered_on": TODAY}, "kind"),
        ({"kind": "mri", "ordered_on": "1999-12-31"}, "ordered_on"),
        ({"kind": "mri", "ordered_on": "2999-01-01"}, "ordered_on"),
        ({"kind": "mri"}, "ordered_on"),
        ({"kind": "mri", "ordered_on": TODAY, "encounter_id": "5"}, "encounter_id"),
        ({"kind": "mri", "ordered_on": TODAY, "encounter_id": 999_999}, "encounter_id"),
        ({"kind": "other", "ordered_on": TODAY}, "name"),
        ({"kind": "other", "ordered_on": TODAY, "name": "x" * 201}, "name"),
    ],
)
def test_a_bad_order_is_422_and_nothing_written(api, unit, body, parameter):
    response = _post(api, _patient_url(unit, "investigations"), body)

    assert response.status_code == 422
    assert parameter in _parameters(response)
    assert not Investigation.objects.exists()


def test_results_and_cancellations_that_conflict_are_409(api, unit):
    made = order(unit)
    cancelled = _post(api, f"/api/v1/investigations/{made.pk}/cancel", {"reason": "Lost"})

    result = _result(api, made, value=0.2, unit="g/L")
    again = _post(api, f"/api/v1/investigations/{made.pk}/cancel", {"reason": "Lost"})

    assert cancelled.status_code == 200
    assert (result.status_code, result.json()["detail"]) == (
        409,
        investigations.RESULT_OF_CANCELLED,
    )
    assert (again.status_code, again.json()["detail"]) == (409, investigations.ALREADY_CANCELLED)


def test_an_idempotency_key_orders_once(api, unit):
    body = {"kind": "mri", "ordered_on": TODAY}

    first = _post(api, _patient_url(unit, "investigations"), body, **{"Idempotency-Key": "k-1"})
    second = _post(api, _patient_url(unit, "investigations"), body, **{"Idempotency-Key": "k-1"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert Investigation.objects.count() == 1


def test_a_merged_record_is_409_naming_the_record_kept(api, unit):
    keep = factories.patient(date_of_birth=BORN)
    Patient.objects.filter(pk=unit["patient"].pk).update(merged_into=keep, merged_at=timezone.now())

    response = _post(
        api, _patient_url(unit, "investigations"), {"kind": "mri", "ordered_on": TODAY}
    )

    assert response.status_code == 409
    assert response.json()["merged_into"] == keep.pk
    assert not Investigation.objects.exists()


# Who


@pytest.mark.parametrize(
    ("role", "status"), [(Role.RECEPTION, 403), (Role.ADMIN, 403), (Role.PATIENT, 404)]
)
def test_only_clinicians_use_a_patients_investigations(client, unit, role, status):
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]
    sign_in(client, user)

    listed = client.get(_patient_url(unit, "investigations"))
    workup = client.get(_patient_url(unit, "workup"))
    ordered = _post(
        client, _patient_url(unit, "investigations"), {"kind": "mri", "ordered_on": TODAY}
    )

    assert (listed.status_code, workup.status_code, ordered.status_code) == (status,) * 3
    assert not Investigation.objects.exists()
    assert AuditEntry.objects.filter(outcome="refused", channel=AuditChannel.API).exists()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_an_investigation_or_report_by_id_is_404_for_anyone_else(client, unit, role):
    made = order(unit, "mri")
    api = sign_in(Client(), unit["clinician"])  # a second browser, for the clinician
    report = api.post(
        f"/api/v1/investigations/{made.pk}/reports", {"report": SimpleUploadedFile("a.pdf", PDF)}
    ).json()
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]
    sign_in(client, user)

    answers = [
        client.get(f"/api/v1/investigations/{made.pk}").status_code,
        _post(client, f"/api/v1/investigations/{made.pk}/cancel", {"reason": "x"}).status_code,
        _result(client, made, report="x").status_code,
        client.get(report["url"]).status_code,
    ]

    assert answers == [404] * 4
    assert Investigation.objects.get().status == "ordered"


def test_another_patients_investigation_is_404_for_a_patient(client, unit, other_patient):
    made = order(unit)
    sign_in(client, other_patient.user)

    assert client.get(f"/api/v1/investigations/{made.pk}").status_code == 404


def test_signed_out_is_401(client, unit):
    made = order(unit)

    assert client.get(_patient_url(unit, "investigations")).status_code == 401
    assert client.get(f"/api/v1/investigations/{made.pk}").status_code == 401


# No input gives a 500

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=50)
    | st.sampled_from(["", "g/L", "mg/dL", "µmol/24 h", "2024-03-08", TODAY, "\x00", "9" * 400])
)
RESULT_FIELDS = [
    "resulted_on",
    "value",
    "unit",
    "reference_low",
    "reference_high",
    "kf_rings",
    "gene",
    "variant",
    "variant_classification",
    "levodopa_dose_mg_per_day",
    "levodopa_duration_days",
    "levodopa_response",
    "report",
]


def _bodies(fields):
    objects = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, SCALARS))
    return objects.map(lambda value: json.dumps(value).encode()) | st.binary(max_size=100)


@FUZZ
@given(
    body=_bodies(RESULT_FIELDS),
    kind=st.sampled_from(["caeruloplasmin", "slit_lamp", "genetic_panel", "levodopa_trial", "mri"]),
)
def test_no_result_body_gives_a_500(api, unit, body, kind):
    made = order(unit, kind)
    before = Investigation.objects.filter(pk=made.pk).values().get()

    response = api.post(f"/api/v1/investigations/{made.pk}/result", body, content_type=JSON)

    assert response.status_code < 500, (body, response.content[:300])
    if response.status_code >= 400:
        assert Investigation.objects.filter(pk=made.pk).values().get() == before
        assert response["Content-Type"].startswith(JSON)


@FUZZ
@given(body=_bodies(["kind", "ordered_on", "name", "encounter_id", "item", "key"]))
def test_no_order_body_gives_a_500(api, unit, body):
    if not ClassificationReview.objects.exists():  # examples share the test's database
        decided_review(unit["patient"], unit["clinician"])
    count = Investigation.objects.count()

    for path in ("investigations", "workup/orders"):
        response = api.post(_patient_url(unit, path), body, content_type=JSON)
        assert response.status_code < 500, (path, body, response.content[:300])
        if response.status_code >= 400:
            assert Investigation.objects.count() == count
        count = Investigation.objects.count()
