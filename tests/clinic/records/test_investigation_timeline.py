"""Investigations on the patient timeline: each order and each result is an event (one query
for both, a UNION), dated as a diagnosis is, linking to the investigation; the timeline's
queries stay one per source however many investigations there are."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from clinic.accounts.models import Role
from clinic.records import investigations, timeline
from clinic.records.investigation_rules import ResultDetails
from clinic.records.models import Investigation
from clinic.records.timeline import EventKind, Window
from clinic.scheduling.availability import clinic_tz
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.clinic.records.test_investigations import BORN, order
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def unit(db, staff):
    return {
        "clinician": factories.user(role=Role.CLINICIAN, full_name="Dr Ann"),
        "patient": factories.patient(date_of_birth=BORN),
        "staff": staff,
    }


def _events(unit, **kwargs):
    return timeline.timeline_of_patient(
        context=context_of(unit["clinician"]), patient=unit["patient"], **kwargs
    )


def _resulted(unit, ordered_on: date, resulted_on: date, /, **fields) -> Investigation:
    """An investigation ordered and resulted, written directly (recorded on its days)."""
    values = {
        "patient": unit["patient"],
        "kind": "caeruloplasmin",
        "ordered_on": ordered_on,
        "ordered_by": unit["clinician"],
        "status": "resulted",
        "resulted_on": resulted_on,
        "resulted_by": unit["clinician"],
        "resulted_at": datetime.combine(resulted_on, time(12), clinic_tz()),
        "value": 0.09,
        "unit": "g/L",
        "entered_value": 9.0,
        "entered_unit": "mg/dL",
        "flag": "low",
    } | fields
    made = Investigation.objects.create(**values)
    ordered_at = datetime.combine(ordered_on, time(9), clinic_tz())
    Investigation.objects.filter(pk=made.pk).update(ordered_at=ordered_at)
    return made


def test_an_order_and_its_result_are_two_events_newest_first(unit):
    made = _resulted(unit, date(2024, 3, 1), date(2024, 3, 8))

    events = _events(unit).events

    assert [(e.kind, e.title, e.day) for e in events] == [
        ("investigation", "Serum caeruloplasmin: result", date(2024, 3, 8)),
        ("investigation", "Serum caeruloplasmin: ordered", date(2024, 3, 1)),
    ]
    result, ordered = events
    assert result.detail == "9 mg/dL (0.09 g/L); Dr Ann"
    assert result.status == "Low"
    assert ordered.status == "Resulted"
    assert ordered.detail == "Dr Ann"
    assert {e.url for e in events} == {f"/records/investigations/{made.pk}/"}
    assert not any(e.timed for e in events)


def test_an_order_recorded_later_sits_at_the_end_of_its_day_and_today_at_its_moment(unit):
    context = context_of(unit["clinician"])
    backdated = order(unit)  # ordered on 1 March 2024, recorded today
    today = timezone.localdate()
    fresh = investigations.investigation_order(
        context=context,
        patient_id=unit["patient"].pk,
        details=investigations.OrderDetails(kind="mri", ordered_on=today, name="MRI brain"),
    )

    events = {e.title: e for e in _events(unit).events}

    assert events["Serum caeruloplasmin: ordered"].at == timeline.end_of_day(backdated.ordered_on)
    assert events["MRI: MRI brain: ordered"].at == Investigation.objects.get(pk=fresh.pk).ordered_at
    assert events["MRI: MRI brain: ordered"].status == "Awaiting the result"


def test_a_cancelled_order_has_no_result_event(unit):
    made = order(unit, "slit_lamp")
    investigations.investigation_cancel(
        context=context_of(unit["clinician"]), investigation_id=made.pk, reason="Done elsewhere"
    )

    [event] = _events(unit).events

    assert (event.title, event.status) == ("Slit-lamp examination: ordered", "Cancelled")


def test_a_result_of_another_kind_shows_its_summary(unit):
    made = order(unit, "levodopa_trial")
    investigations.investigation_result(
        context=context_of(unit["clinician"]),
        investigation_id=made.pk,
        details=ResultDetails(
            resulted_on=date(2024, 4, 1),
            levodopa_dose_mg_per_day=300,
            levodopa_duration_days=28,
            levodopa_response="marked",
        ),
    )

    result = _events(unit).events[0]

    assert result.title == "Levodopa trial: result"
    assert result.detail == "300 mg a day for 28 days: marked and sustained; Dr Ann"
    assert result.status == ""


def test_the_window_filters_each_event_by_its_own_day(unit):
    _resulted(unit, date(2024, 3, 1), date(2024, 3, 8))

    shown = _events(unit, window=Window(date_from=date(2024, 3, 5), date_to=date(2024, 3, 8)))

    assert [e.title for e in shown.events] == ["Serum caeruloplasmin: result"]


def test_filtering_by_investigations_asks_one_query(unit, django_assert_num_queries):
    _resulted(unit, date(2024, 3, 1), date(2024, 3, 8))

    with django_assert_num_queries(2):  # the UNION and the audit entry
        shown = _events(unit, kinds=frozenset({EventKind.INVESTIGATION}))

    assert len(shown.events) == 2


@pytest.mark.parametrize("n", [1, 60])
def test_the_number_of_queries_does_not_grow_with_investigations(
    unit, n, django_assert_num_queries
):
    for i in range(n):
        day = date(2020, 1, 1) + timedelta(days=3 * i)
        _resulted(unit, day, day + timedelta(days=1))

    with django_assert_num_queries(len(timeline.SOURCES) + 1):
        shown = _events(unit)

    assert len(shown.events) == 2 * n


def test_the_page_takes_the_same_queries_for_one_or_sixty(client, unit):
    sign_in(client, unit["clinician"])
    client.get(f"/records/patients/{factories.patient().pk}/timeline/")  # the session warmed
    counts = []
    for n in (1, 60):
        unit["patient"] = factories.patient(date_of_birth=BORN)
        for i in range(n):
            day = date(2020, 1, 1) + timedelta(days=3 * i)
            _resulted(unit, day, day + timedelta(days=1))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/records/patients/{unit['patient'].pk}/timeline/")
        assert response.content.decode().count('class="timeline-event') == 2 * n
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_a_long_record_is_cut_without_gaps(unit, monkeypatch):
    monkeypatch.setattr(timeline, "EVENTS_PER_SOURCE", 3)
    for i in range(3):
        day = date(2024, 1, 1) + timedelta(days=10 * i)
        _resulted(unit, day, day + timedelta(days=2))

    shown = _events(unit)

    assert shown.complete_after is not None
    assert [e.day for e in shown.events] == [date(2024, 1, 23), date(2024, 1, 21)]


def test_the_page_offers_the_kind_and_escapes_the_name(client, unit):
    _resulted(
        unit,
        date(2024, 3, 1),
        date(2024, 3, 8),
        kind="other",
        name=SCRIPT,
        value=None,
        unit="",
        entered_value=None,
        entered_unit="",
        flag="",
        report="Normal.",
    )
    sign_in(client, unit["clinician"])

    html = client.get(f"/records/patients/{unit['patient'].pk}/timeline/").content.decode()

    assert 'value="investigation"' in html
    assert "Investigations" in html
    assert SCRIPT not in html
    assert escape(SCRIPT) in html
