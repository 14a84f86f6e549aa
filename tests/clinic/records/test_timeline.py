"""The patient timeline: every encounter, diagnosis, sent letter and classification decision,
newest first, filterable by kind and dates; a fixed number of queries however much data;
clinicians only, one audited read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import timeline
from clinic.records.access import AccessRefused
from clinic.records.diagnosis_forms import DATE_OUT_OF_RANGE, FROM_AFTER_TO
from clinic.records.models import Diagnosis, Letter, LetterStatus
from clinic.records.timeline import EventKind, TimelineEvent, Window
from clinic.scheduling.availability import clinic_tz
from tests import factories
from tests.clinic.records.test_diagnoses import context_of, encounter_for, review_for
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), clinic_tz())


def diagnosis_for(patient, clinician, *, on, label="Essential tremor", **fields):
    return Diagnosis.objects.create(
        patient=patient,
        kind="other",
        label=label,
        diagnosed_on=on,
        recorded_by=clinician,
        **fields,
    )


def letter_for(encounter, *, sent_at=None):
    sent = sent_at is not None
    return Letter.objects.create(
        encounter=encounter,
        patient=encounter.patient,
        author=encounter.clinician,
        status=LetterStatus.SENT if sent else LetterStatus.DRAFT,
        sent_at=sent_at,
        sent_by=encounter.clinician if sent else None,
    )


@pytest.fixture
def clinician(db):
    return factories.user(role=Role.CLINICIAN, full_name="Dr Ann")


@pytest.fixture
def patient(db):
    return factories.patient(date_of_birth=date(1960, 1, 1))


@pytest.fixture
def site(db):
    return factories.site(name="North Hospital")


def _record(patient, clinician, site, n: int, *, start=date(2015, 1, 1)):
    """``n`` events of each kind, one day apart."""
    for i in range(n):
        day = start + timedelta(days=3 * i)
        encounter = encounter_for(patient, clinician, started_at=at(day), site=site, signed=True)
        diagnosis_for(patient, clinician, on=day)
        letter_for(encounter, sent_at=at(day + timedelta(days=1)))
        review_for(encounter, decided_at=at(day, 11))


def _timeline(clinician, patient, **kwargs):
    return timeline.timeline_of_patient(context=context_of(clinician), patient=patient, **kwargs)


def test_every_kind_of_event_appears_newest_first(clinician, patient, site):
    day = date(2024, 3, 5)
    encounter = encounter_for(patient, clinician, started_at=at(day), site=site)
    diagnosis_for(patient, clinician, on=day)
    letter_for(encounter, sent_at=at(day + timedelta(days=2)))
    letter_for(encounter)  # a draft: not on the timeline
    review_for(encounter, decided_at=at(day, 11), regions=("neck", "upper_face"))
    review_for(encounter, decision="")  # undecided: not on the timeline

    events = _timeline(clinician, patient).events

    assert [e.kind for e in events] == ["letter", "diagnosis", "classification", "encounter"]
    letter, diagnosis, classification, visit = events
    assert letter.title == "Letter sent"
    assert "To the GP, the referrer and the patient" in letter.detail
    assert (diagnosis.title, diagnosis.day, diagnosis.timed) == ("Essential tremor", day, False)
    assert classification.title == "Classification confirmed: Segmental dystonia"
    assert "Blepharospasm" in classification.detail
    assert (visit.title, visit.status) == ("Consultation", "Draft")
    assert visit.detail == "Dr Ann, North Hospital"
    assert visit.url == f"/records/encounters/{encounter.pk}/"
    assert diagnosis.url.startswith("/records/diagnoses/")


def test_a_diagnosis_made_at_the_visit_sits_where_it_was_recorded(clinician, patient, site):
    """Recorded on the day it was made, a diagnosis sits at that moment, so the letter sent
    later that day comes after it; backdated, it sits at the end of its day."""
    day = timezone.localdate()
    encounter = encounter_for(patient, clinician, started_at=timezone.now(), site=site)
    diagnosis_for(patient, clinician, on=day, label="Made at the visit")
    letter_for(encounter, sent_at=timezone.now() + timedelta(minutes=1))
    diagnosis_for(patient, clinician, on=day - timedelta(days=400), label="From an old letter")

    events = _timeline(clinician, patient).events

    assert [e.title for e in events if e.kind != "encounter"] == [
        "Letter sent",
        "Made at the visit",
        "From an old letter",
    ]


def test_an_override_shows_the_clinicians_distribution(clinician, patient, site):
    encounter = encounter_for(patient, clinician, site=site)
    review_for(encounter, decision="overridden")

    [decision, _visit] = sorted(_timeline(clinician, patient).events, key=lambda e: e.kind)

    assert decision.title == "Classification overridden: Multifocal dystonia"
    assert "The core had focal dystonia" in decision.detail


def test_an_entry_made_in_error_is_struck(clinician, patient):
    diagnosis_for(patient, clinician, on=date(2020, 1, 1), verification_status="entered-in-error")

    [event] = _timeline(clinician, patient).events

    assert event.struck


@pytest.mark.parametrize("n", [1, 60])
def test_the_number_of_queries_does_not_grow_with_the_data(
    clinician, patient, site, n, django_assert_num_queries
):
    _record(patient, clinician, site, n)

    # One per source, one for the audit entry.
    with django_assert_num_queries(len(timeline.SOURCES) + 1):
        shown = _timeline(clinician, patient)

    assert len(shown.events) == 4 * n


def test_the_page_takes_the_same_queries_for_one_or_sixty_of_each(client, clinician, site):
    sign_in(client, clinician)
    client.get(f"/records/patients/{factories.patient().pk}/timeline/")  # the session warmed
    counts = []
    for n in (1, 60):
        patient = factories.patient()
        _record(patient, clinician, site, n)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/records/patients/{patient.pk}/timeline/")
        assert response.status_code == 200
        assert response.content.decode().count('class="timeline-event') == 4 * n
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_filtering_by_kind_asks_only_those_sources(
    clinician, patient, site, django_assert_num_queries
):
    _record(patient, clinician, site, 3)

    with django_assert_num_queries(2):
        shown = _timeline(clinician, patient, kinds=frozenset({EventKind.DIAGNOSIS}))

    assert {e.kind for e in shown.events} == {"diagnosis"}
    assert len(shown.events) == 3


def test_filtering_by_dates_is_inclusive_of_both_days(clinician, patient, site):
    _record(patient, clinician, site, 5)  # days 1/1, 4/1, 7/1, 10/1, 13/1 of 2015

    shown = _timeline(
        clinician, patient, window=Window(date_from=date(2015, 1, 4), date_to=date(2015, 1, 7))
    )

    assert {e.day for e in shown.events} == {
        date(2015, 1, 4),
        date(2015, 1, 5),  # the letter sent the next day
        date(2015, 1, 7),
    }
    assert len(shown.events) == 7  # the letter of 7/1 was sent on 8/1


def test_a_long_record_is_cut_where_a_source_stops_without_gaps(
    clinician, patient, site, monkeypatch
):
    monkeypatch.setattr(timeline, "EVENTS_PER_SOURCE", 3)
    for i in range(6):
        encounter_for(patient, clinician, started_at=at(date(2020, 1, 1 + i)), site=site)
    diagnosis_for(patient, clinician, on=date(2019, 1, 1))  # older than the cut
    diagnosis_for(patient, clinician, on=date(2020, 1, 5))

    shown = _timeline(clinician, patient)

    assert shown.complete_after == at(date(2020, 1, 4))
    assert [e.day for e in shown.events] == [date(2020, 1, d) for d in (6, 5, 5)]


def test_merge_keeps_everything_when_nothing_was_cut():
    one = _event(EventKind.ENCOUNTER, 5)
    two = _event(EventKind.DIAGNOSIS, 7)

    merged = timeline.merge([([one], False), ([two], False), ([], True)])

    assert merged.events == [two, one]
    assert merged.complete_after is None


def _event(kind, minutes):
    moment = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return TimelineEvent(kind=kind, at=moment, timed=True, title="t", detail="", url="/")


BATCH = st.lists(st.integers(min_value=0, max_value=10_000), max_size=15)


@given(batches=st.lists(st.tuples(BATCH, st.booleans()), max_size=5))
def test_merged_events_never_go_forward_in_time_and_have_no_gaps(batches):
    """Whatever each source returns, the timeline is newest first, and every event of any
    source after ``complete_after`` is in it."""
    prepared = [
        ([_event(EventKind.ENCOUNTER, m) for m in sorted(minutes, reverse=True)], cut)
        for minutes, cut in batches
    ]

    merged = timeline.merge(prepared)

    moments = [e.at for e in merged.events]
    assert moments == sorted(moments, reverse=True)
    cutoff = merged.complete_after
    expected = [e for events, _cut in prepared for e in events if cutoff is None or e.at > cutoff]
    assert len(merged.events) == len(expected)


# Hypothesis takes naive bounds and attaches the time zone itself.
MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    visits=st.lists(MOMENTS, max_size=4),
    diagnosed=st.lists(
        st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)), max_size=4
    ),
    letters=st.lists(MOMENTS, max_size=3),
    decisions=st.lists(MOMENTS, max_size=3),
)
def test_the_timeline_never_goes_forward_in_time_whatever_the_data(  # noqa: PLR0917 - fixtures and hypothesis's values
    clinician, site, visits, diagnosed, letters, decisions
):
    patient = factories.patient(date_of_birth=date(1960, 1, 1))
    encounters = [
        encounter_for(patient, clinician, started_at=m, site=site)
        for m in visits or [timezone.now()]
    ]
    for day in diagnosed:
        diagnosis_for(patient, clinician, on=day)
    for moment in letters:
        letter_for(encounters[0], sent_at=moment)
    for moment in decisions:
        review_for(encounters[-1], decided_at=moment)

    events = _timeline(clinician, patient).events

    assert len(events) == max(len(visits), 1) + len(diagnosed) + len(letters) + len(decisions)
    moments = [e.at for e in events]
    assert moments == sorted(moments, reverse=True)
    days = [e.day for e in events]
    assert days == sorted(days, reverse=True)


# Access and audit


def test_the_timeline_is_one_audited_read_without_clinical_content(clinician, patient):
    diagnosis_for(patient, clinician, on=date(2020, 1, 1))

    _timeline(clinician, patient)

    [entry] = AuditEntry.objects.filter(object_type="timeline")
    assert (entry.action, entry.outcome, entry.patient_id) == ("read", "allowed", patient.pk)
    assert entry.detail == "timeline read: 1 events"


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_only_clinicians_read_the_timeline(patient, role):
    with pytest.raises(AccessRefused) as refused:
        _timeline(factories.user(role=role), patient)

    assert refused.value.reveal is (role != Role.PATIENT)
    assert AuditEntry.objects.get().outcome == "refused"


@pytest.mark.parametrize(("role", "status"), [(Role.RECEPTION, 403), (Role.ADMIN, 403)])
def test_other_staff_get_403_on_the_page(client, patient, role, status):
    sign_in(client, factories.user(role=role))

    response = client.get(f"/records/patients/{patient.pk}/timeline/")

    assert response.status_code == status
    assert AuditEntry.objects.filter(outcome="refused").exists()
    assert not AuditEntry.objects.filter(object_type="timeline", outcome="allowed").exists()


def test_a_patient_gets_404_even_for_their_own_timeline(client, patient_user, other_patient):
    sign_in(client, patient_user, second_factor=False)

    own = client.get(f"/records/patients/{patient_user.patient_record.pk}/timeline/")
    other = client.get(f"/records/patients/{other_patient.pk}/timeline/")

    assert (own.status_code, other.status_code) == (404, 404)


def test_a_missing_patient_is_404(client, clinician):
    sign_in(client, clinician)
    assert client.get("/records/patients/999999/timeline/").status_code == 404


# The page


def test_the_page_groups_by_year_links_each_event_and_escapes_text(
    client, clinician, patient, site
):
    encounter = encounter_for(patient, clinician, started_at=at(date(2021, 2, 3)), site=site)
    diagnosis = diagnosis_for(patient, clinician, on=date(2023, 4, 5), label=SCRIPT)
    sign_in(client, clinician)

    page = client.get(f"/records/patients/{patient.pk}/timeline/").content.decode()

    assert page.index('id="year-2023"') < page.index('id="year-2021"')
    assert f'href="/records/encounters/{encounter.pk}/"' in page
    assert f'href="/records/diagnoses/{diagnosis.pk}/"' in page
    assert SCRIPT not in page
    assert escape(SCRIPT) in page
    assert 'type="checkbox"' in page


def test_the_page_filters_by_kind_and_dates(client, clinician, patient, site):
    _record(patient, clinician, site, 5)
    sign_in(client, clinician)

    response = client.get(
        f"/records/patients/{patient.pk}/timeline/",
        {"kinds": ["encounter", "letter"], "date_from": "2015-01-04", "date_to": "07/01/2015"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="timeline-event') == 3  # two encounters, one letter
    assert 'class="timeline-event timeline-diagnosis' not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kinds": "scores"}, "Choose kinds of event from the list."),
        ({"date_from": "2020-02-30"}, "Enter a real date"),
        ({"date_from": "yesterday"}, "Enter a real date"),
        ({"date_from": "\x00"}, "Enter a real date"),
        ({"date_to": "0001-01-01"}, DATE_OUT_OF_RANGE),
        ({"date_from": "9999-12-31"}, DATE_OUT_OF_RANGE),
        ({"date_from": "2020-02-02", "date_to": "2020-02-01"}, FROM_AFTER_TO),
    ],
)
def test_a_bad_filter_is_400_with_a_message(client, clinician, patient, query, message):
    sign_in(client, clinician)

    response = client.get(f"/records/patients/{patient.pk}/timeline/", query)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not AuditEntry.objects.filter(object_type="timeline").exists()


def test_an_empty_filter_result_says_so(client, clinician, patient):
    sign_in(client, clinician)
    response = client.get(f"/records/patients/{patient.pk}/timeline/", {"date_from": "2001-01-01"})
    assert "No events match the filter." in response.content.decode()


def test_another_app_adds_a_source_and_the_filter_offers_its_kind(clinician, monkeypatch):
    """A later app (treatment) joins the timeline by registering a source; registering the
    same kind again replaces it, so events are never shown twice."""
    # Without the treatment app's own surgery source, to show a source being added.
    kept = [source for source in timeline.SOURCES if source.kind != EventKind.SURGERY]
    monkeypatch.setattr(timeline, "SOURCES", kept)
    patient = factories.patient()
    surgery_day = date(2021, 6, 1)

    def surgery(patient, window, limit):
        return [
            TimelineEvent(
                kind=EventKind.SURGERY,
                at=at(surgery_day),
                timed=False,
                title="SPD",
                detail="",
                url="/",
            )
        ]

    assert (EventKind.SURGERY.value, "Surgery") not in timeline.kind_choices()

    timeline.register_source(timeline.EventSource(EventKind.SURGERY, surgery))
    timeline.register_source(timeline.EventSource(EventKind.SURGERY, surgery))

    assert (EventKind.SURGERY.value, "Surgery") in timeline.kind_choices()
    shown = _timeline(clinician, patient)
    assert [e.kind for e in shown.events] == [EventKind.SURGERY]
