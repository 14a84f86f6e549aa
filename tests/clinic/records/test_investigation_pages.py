"""The investigation pages: the patient's investigations beside the work-up advice (also on
the patient page), ordering by hand or with the advice's "Order" button (POST, CSRF), one
investigation, its result and its cancellation. Clinicians only; refusals as everywhere in
the clinical record; bad input answered with the message beside the field and nothing
written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import investigation_rules as rules
from clinic.records import investigation_workup, investigations
from clinic.records.investigation_views import ALREADY_ORDERED
from clinic.records.models import Investigation, Patient
from clinic.scheduling.availability import local_today
from dystonia.labs.wilson import NOT_EXCLUDED
from tests import factories
from tests.clinic.records.test_investigations import BORN, ORDERED, decided_review, order
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
TODAY = local_today().isoformat()


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
def clinician_client(client, unit):
    return sign_in(client, unit["clinician"])


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _investigations_url(unit) -> str:
    return f"/records/patients/{unit['patient'].pk}/investigations/"


def _advice_post(unit, key="caeruloplasmin:", item="wilson_disease", return_to="patient"):
    url = f"/records/patients/{unit['patient'].pk}/investigations/order-from-advice/"
    return url, {"item": item, "key": key, "return_to": return_to}


# The advice, on the patient page and the investigations page


def test_the_patient_page_shows_wilson_disease_still_to_be_excluded_with_order_buttons(
    clinician_client, unit
):
    decided_review(unit["patient"], unit["clinician"])

    html = _page(clinician_client, f"/records/patients/{unit['patient'].pk}/")

    assert "Work-up and investigations" in html
    assert "Exclude Wilson disease" in html
    assert "Still to be excluded" in html
    assert html.count('name="key" value="') == 5  # 3 Wilson, the levodopa trial, THAP1
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="return_to" value="patient"' in html


def test_without_a_decided_classification_the_page_says_so(clinician_client, unit):
    html = _page(clinician_client, _investigations_url(unit))

    assert escape(investigation_workup.NO_DECIDED_CLASSIFICATION) in html
    assert "No investigations recorded." in html


def test_the_order_button_orders_once_and_comes_back(clinician_client, unit):
    decided_review(unit["patient"], unit["clinician"])
    url, data = _advice_post(unit)

    first = clinician_client.post(url, data)
    second = clinician_client.post(url, data, follow=True)

    assert first.status_code == 302
    assert first["Location"] == f"/records/patients/{unit['patient'].pk}/"
    made = Investigation.objects.get()
    assert (made.kind, made.workup_item, made.ordered_on) == (
        "caeruloplasmin",
        "wilson_disease",
        local_today(),
    )
    day = f"{made.ordered_on.day} {made.ordered_on:%B %Y}"
    assert escape(ALREADY_ORDERED.format(day=day, title=made.title)) in second.content.decode()
    html = _page(clinician_client, _investigations_url(unit))
    assert "Ordered, awaiting the result" in html
    assert html.count('name="key" value="') == 4


def test_the_order_button_needs_the_csrf_token(unit):
    decided_review(unit["patient"], unit["clinician"])
    strict = sign_in(Client(enforce_csrf_checks=True), unit["clinician"])
    url, data = _advice_post(unit)

    response = strict.post(url, data)

    assert response.status_code == 403
    assert not Investigation.objects.exists()


def test_the_order_button_is_post_only(clinician_client, unit):
    decided_review(unit["patient"], unit["clinician"])
    url, _data = _advice_post(unit)

    assert clinician_client.get(url).status_code == 405
    assert not Investigation.objects.exists()


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"item": "wilson_disease", "key": "mri:"}, 409),
        ({"item": "nonsense", "key": "caeruloplasmin:"}, 409),
        ({"item": "", "key": ""}, 400),
        ({"item": "x" * 41, "key": "caeruloplasmin:"}, 400),
        ({"item": "wilson_disease", "key": "caeruloplasmin:", "return_to": "evil.example"}, 400),
    ],
)
def test_an_order_the_advice_does_not_list_is_refused(clinician_client, unit, data, status):
    decided_review(unit["patient"], unit["clinician"])
    url, _data = _advice_post(unit)

    response = clinician_client.post(url, data)

    assert response.status_code == status
    assert escape(investigations.ADVICE_CHANGED) in response.content.decode()
    assert not Investigation.objects.exists()


def test_a_resulted_normal_caeruloplasmin_shows_the_cores_text_and_wilson_stays(
    clinician_client, unit
):
    decided_review(unit["patient"], unit["clinician"])
    url, data = _advice_post(unit, return_to="investigations")
    clinician_client.post(url, data)
    made = Investigation.objects.get()

    response = clinician_client.post(
        f"/records/investigations/{made.pk}/result/",
        {"resulted_on": TODAY, "value": "0.25", "unit": "g/L"},
    )
    html = _page(clinician_client, _investigations_url(unit))

    assert response.status_code == 302
    assert escape(NOT_EXCLUDED) in html
    assert "Still to be excluded" in html
    wilson = html[html.index('id="workup-wilson_disease"') :]
    wilson = wilson[: wilson.index("</section>")]
    assert "Still to be excluded" in wilson
    assert "is excluded" not in wilson
    assert "Wilson disease excluded" not in wilson


# Ordering by hand, results and cancelling


def test_ordering_by_hand_then_recording_a_low_caeruloplasmin_in_mg_per_dl(clinician_client, unit):
    visit = factories.site()
    encounter = unit["patient"].encounters.create(
        kind="consultation", clinician=unit["clinician"], site=visit, started_at=timezone.now()
    )
    response = clinician_client.post(
        f"/records/patients/{unit['patient'].pk}/investigations/new/",
        {"kind": "caeruloplasmin", "name": "", "ordered_on": TODAY, "encounter": str(encounter.pk)},
    )
    made = Investigation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/records/investigations/{made.pk}/"
    assert made.encounter == encounter

    result = clinician_client.post(
        f"/records/investigations/{made.pk}/result/",
        {"resulted_on": TODAY, "value": "9", "unit": "mg/dL", "report": ""},
        follow=True,
    )

    html = result.content.decode()
    assert "9 mg/dL (0.09 g/L)" in html
    assert '<span class="status status-new">Low</span>' in html
    assert "scores 2 in the Leipzig score" in html
    assert "2 points" in html
    assert Investigation.objects.get().value == 0.09


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": "0.2", "unit": ""}, rules.UNIT_REQUIRED.format(units="g/L, mg/dL, mg/L")),
        (
            {"value": "0.2", "unit": "furlongs"},
            "Choose a unit of serum caeruloplasmin: g/L, mg/dL, mg/L.",
        ),
        ({"value": "", "unit": "g/L"}, rules.VALUE_REQUIRED),
        ({"value": "-0.2", "unit": "g/L"}, rules.NEGATIVE),
        ({"value": "abc", "unit": "g/L"}, rules.BAD_NUMBER),
        ({"value": "nan", "unit": "g/L"}, rules.BAD_NUMBER),
        ({"value": "1e400", "unit": "g/L"}, rules.BAD_NUMBER),
        ({"value": "5000000", "unit": "g/L"}, rules.TOO_LARGE),
        (
            {"value": "0.2", "unit": "g/L", "reference_low": "0.5", "reference_high": "0.2"},
            rules.LOW_ABOVE_HIGH,
        ),
        (
            {"value": "0.2", "unit": "g/L", "resulted_on": "2024-02-01"},
            rules.RESULTED_BEFORE_ORDER.format(day="1 March 2024"),
        ),
        (
            {
                "value": "0.2",
                "unit": "g/L",
                "resulted_on": (local_today() + timedelta(days=1)).isoformat(),
            },
            rules.RESULTED_IN_FUTURE,
        ),
        ({"value": "0.2", "unit": "g/L", "resulted_on": "31/02/2024"}, rules.BAD_DATE),
        ({"value": "0.2", "unit": "g/L", "report": "a\x00b"}, None),
    ],
)
def test_a_bad_result_is_answered_400_with_the_message_and_nothing_written(
    clinician_client, unit, data, message
):
    made = order(unit)

    response = clinician_client.post(
        f"/records/investigations/{made.pk}/result/", {"resulted_on": TODAY, **data}
    )

    assert response.status_code == 400
    if message:
        assert escape(message) in response.content.decode()
    assert Investigation.objects.get().status == "ordered"
    assert Investigation.objects.get().value is None


def test_the_result_form_has_only_the_fields_of_the_kind(clinician_client, unit):
    slit = order(unit, "slit_lamp")
    trial = order(unit, "levodopa_trial")

    slit_html = _page(clinician_client, f"/records/investigations/{slit.pk}/result/")
    trial_html = _page(clinician_client, f"/records/investigations/{trial.pk}/result/")

    assert 'name="kf_rings"' in slit_html
    assert 'name="value"' not in slit_html
    assert 'name="levodopa_dose_mg_per_day"' in trial_html
    assert 'name="kf_rings"' not in trial_html


def test_a_slit_lamp_result_needs_an_answer(clinician_client, unit):
    slit = order(unit, "slit_lamp")
    url = f"/records/investigations/{slit.pk}/result/"

    missing = clinician_client.post(url, {"resulted_on": TODAY})
    done = clinician_client.post(url, {"resulted_on": TODAY, "kf_rings": "yes"}, follow=True)

    assert missing.status_code == 400
    assert escape(rules.KF_REQUIRED) in missing.content.decode()
    assert "Kayser-Fleischer rings present" in done.content.decode()


def test_cancelling_needs_a_reason_and_a_cancelled_one_cannot_be_resulted(clinician_client, unit):
    made = order(unit)
    cancel = f"/records/investigations/{made.pk}/cancel/"

    empty = clinician_client.post(cancel, {"reason": ""})
    done = clinician_client.post(cancel, {"reason": "Ordered twice"})
    result = clinician_client.post(
        f"/records/investigations/{made.pk}/result/",
        {"resulted_on": TODAY, "value": "0.2", "unit": "g/L"},
    )

    assert empty.status_code == 400
    assert done.status_code == 302
    assert result.status_code == 409
    assert escape(investigations.RESULT_OF_CANCELLED) in result.content.decode()
    assert Investigation.objects.get().status == "cancelled"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "", "ordered_on": TODAY}, "kind", rules.BAD_KIND),
        ({"kind": "bloods", "ordered_on": TODAY}, "kind", rules.BAD_KIND),
        ({"kind": "other", "ordered_on": TODAY}, "name", rules.NAME_REQUIRED),
        ({"kind": "mri", "ordered_on": "1999-01-01"}, "ordered_on", rules.ORDERED_BEFORE_BIRTH),
        (
            {"kind": "mri", "ordered_on": (local_today() + timedelta(days=3)).isoformat()},
            "ordered_on",
            rules.ORDERED_IN_FUTURE,
        ),
        ({"kind": "mri", "ordered_on": TODAY, "encounter": "999999"}, "encounter", None),
    ],
)
def test_a_bad_order_is_answered_400_and_nothing_written(
    clinician_client, unit, data, field, message
):
    response = clinician_client.post(
        f"/records/patients/{unit['patient'].pk}/investigations/new/", data
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    if message:
        assert escape(message) in html
    assert not Investigation.objects.exists()


def test_text_is_shown_escaped(clinician_client, unit):
    made = order(unit, "other", name=SCRIPT)
    investigations.investigation_result(
        context=_ctx(unit),
        investigation_id=made.pk,
        details=rules.ResultDetails(resulted_on=ORDERED, report=SCRIPT),
    )

    for url in (_investigations_url(unit), f"/records/investigations/{made.pk}/"):
        html = _page(clinician_client, url)
        assert SCRIPT not in html
        assert escape(SCRIPT) in html


def _ctx(unit):
    from tests.clinic.records.test_encounters import context_of  # noqa: PLC0415 - a helper

    return context_of(unit["clinician"])


def test_a_merged_record_refuses_an_order_with_a_link_to_the_record_kept(clinician_client, unit):
    keep = factories.patient(date_of_birth=BORN)
    Patient.objects.filter(pk=unit["patient"].pk).update(merged_into=keep, merged_at=timezone.now())

    response = clinician_client.post(
        f"/records/patients/{unit['patient'].pk}/investigations/new/",
        {"kind": "mri", "ordered_on": TODAY},
    )

    assert response.status_code == 409
    assert f'<a href="/records/patients/{keep.pk}/">{keep.hospital_number}</a>' in (
        response.content.decode()
    )
    assert not Investigation.objects.exists()


# Who


PATIENT_PAGES = ("investigations/", "investigations/new/")


@pytest.mark.parametrize(
    ("role", "status"), [(Role.RECEPTION, 403), (Role.ADMIN, 403), (Role.PATIENT, 404)]
)
@pytest.mark.parametrize("page", PATIENT_PAGES)
def test_only_clinicians_see_a_patients_investigations(client, unit, role, status, page):
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]
    sign_in(client, user)

    response = client.get(f"/records/patients/{unit['patient'].pk}/{page}")

    assert response.status_code == status
    assert AuditEntry.objects.filter(outcome="refused", patient=unit["patient"]).exists()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_nobody_else_orders_from_the_advice(client, unit, role):
    decided_review(unit["patient"], unit["clinician"])
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]
    sign_in(client, user)
    url, data = _advice_post(unit)

    response = client.post(url, data)

    assert response.status_code in {403, 404}
    assert not Investigation.objects.exists()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
@pytest.mark.parametrize("page", ["", "result/", "cancel/"])
def test_an_investigation_by_its_id_is_404_for_anyone_but_a_clinician(client, unit, role, page):
    made = order(unit)
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]
    sign_in(client, user)

    assert client.get(f"/records/investigations/{made.pk}/{page}").status_code == 404
    if page:
        post = client.post(f"/records/investigations/{made.pk}/{page}", {"reason": "x"})
        assert post.status_code == 404
    assert Investigation.objects.get().status == "ordered"


def test_a_patient_asking_for_another_patients_investigation_gets_404(client, unit, other_patient):
    theirs = order(unit)
    sign_in(client, other_patient.user)

    assert client.get(f"/records/investigations/{theirs.pk}/").status_code == 404
    assert client.get(_investigations_url(unit)).status_code == 404


def test_missing_ids_are_404(clinician_client):
    assert clinician_client.get("/records/investigations/999999/").status_code == 404
    assert clinician_client.get("/records/patients/999999/investigations/").status_code == 404


def test_reception_see_the_patient_page_without_the_work_up(client, unit):
    decided_review(unit["patient"], unit["clinician"])
    order(unit)
    sign_in(client, unit["staff"][Role.RECEPTION])

    html = _page(client, f"/records/patients/{unit['patient'].pk}/")

    assert "Work-up and investigations" not in html
    assert (
        not AuditEntry.objects.filter(object_type="investigation", outcome="allowed")
        .exclude(detail="investigation ordered")
        .exists()
    )


def test_the_investigations_page_takes_the_same_queries_for_one_or_twenty(clinician_client, unit):
    decided_review(unit["patient"], unit["clinician"])
    _page(clinician_client, _investigations_url(unit))  # the session warmed
    counts = []
    for n in (1, 20):
        Investigation.objects.all().delete()
        for _ in range(n):
            order(unit)
        with CaptureQueriesContext(connection) as queries:
            html = _page(clinician_client, _investigations_url(unit))
        assert html.count("Record the result") == n
        counts.append(len(queries))

    assert counts[0] == counts[1]
