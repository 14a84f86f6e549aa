"""Recalls: created by staff, worked by reception (contact attempts), closed by a booking, by
hand, or when the patient dies or is discharged; the list and its pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from clinic.accounts.models import Role
from clinic.audit.models import AuditChannel, AuditEntry
from clinic.audit.services import AuditContext
from clinic.records.access import AccessRefused
from clinic.records.models import Patient
from clinic.scheduling import recall_selectors, recalls, services
from clinic.scheduling.models import Recall, RecallContact, RecallStatus, ServiceSchedule
from clinic.scheduling.recall_views import book_query
from tests import factories
from tests.clinic.scheduling.conftest import next_weekday
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


def _context(user):
    user.is_verified = lambda: True
    return AuditContext(actor=user)


def _today():
    return recalls.local_today()


def _recall(calendar, user, **changes):
    values = {
        "patient": calendar.patient,
        "service": calendar.service,
        "due_by": _today() + timedelta(weeks=12),
    } | changes
    return recalls.recall_create(context=_context(user), **values)


def _book(calendar, user, *, patient=None, service=None, weekday=0):
    return services.appointment_book(
        context=_context(user),
        request=services.BookingRequest(
            patient=patient or calendar.patient,
            service=service or calendar.service,
            practitioner=calendar.practitioner,
            site=calendar.site,
            start=calendar.at(next_weekday(weekday), 9),
        ),
    )


def _other_service(calendar):
    physio = factories.service(slug="physio", name="Physiotherapy")
    ServiceSchedule.objects.create(service=physio, duration_minutes=30)
    calendar.site.services.add(physio)
    calendar.practitioner.services.add(physio)
    return physio


# Creating


def test_reception_puts_a_patient_on_the_recall_list(calendar, staff):
    recall = _recall(
        calendar,
        staff[Role.RECEPTION],
        site=calendar.site,
        practitioner=calendar.practitioner,
        reason="Re-injection 12 weeks after toxin",
    )

    assert recall.status == RecallStatus.OPEN
    assert recall.created_by == staff[Role.RECEPTION]
    entry = AuditEntry.objects.get(object_type="recall", action="create")
    assert entry.patient == calendar.patient
    assert entry.outcome == "allowed"


@pytest.mark.parametrize("change", ["date_of_death", "discharged_on"])
def test_no_recall_for_a_patient_who_died_or_was_discharged(calendar, staff, change):
    Patient.objects.filter(pk=calendar.patient.pk).update(**{change: date(2026, 1, 2)})
    calendar.patient.refresh_from_db()

    with pytest.raises(recalls.RecallRefused) as refusal:
        _recall(calendar, staff[Role.CLINICIAN])

    assert refusal.value.message == recalls.NOT_UNDER_CARE
    assert not Recall.objects.exists()
    assert AuditEntry.objects.filter(
        object_type="recall", outcome="refused", patient=calendar.patient
    ).exists()


@pytest.mark.parametrize(
    ("days", "allowed"),
    [(-365, True), (-366, False), (0, True), (2 * 365, True), (2 * 365 + 1, False)],
)
def test_the_due_date_may_be_up_to_a_year_past_and_two_years_ahead(calendar, staff, days, allowed):
    due_by = _today() + timedelta(days=days)
    if allowed:
        assert _recall(calendar, staff[Role.RECEPTION], due_by=due_by).due_by == due_by
        return
    with pytest.raises(recalls.RecallRefused) as refusal:
        _recall(calendar, staff[Role.RECEPTION], due_by=due_by)
    assert (refusal.value.message, refusal.value.field) == (recalls.DUE_BY_OUT_OF_RANGE, "due_by")
    assert not Recall.objects.exists()


def test_the_practitioner_must_provide_the_service_at_the_site(calendar, staff):
    elsewhere = factories.site(slug="elsewhere")
    elsewhere.services.add(calendar.service)
    stranger = factories.practitioner(sites=[calendar.site])
    reception = staff[Role.RECEPTION]
    not_offered = factories.site(slug="not-offered")

    cases = [
        ({"practitioner": stranger}, recalls.PRACTITIONER_DOES_NOT_PROVIDE, "practitioner"),
        (
            {"practitioner": calendar.practitioner, "site": elsewhere},
            recalls.PRACTITIONER_NOT_AT_SITE,
            "practitioner",
        ),
        ({"site": not_offered}, recalls.SITE_DOES_NOT_OFFER, "site"),
        ({"service": factories.service()}, recalls.NOT_SCHEDULED, "service"),
        ({"reason": "x" * 201}, recalls.TEXT_TOO_LONG, "reason"),
    ]
    for changes, message, field in cases:
        with pytest.raises(recalls.RecallRefused) as refusal:
            _recall(calendar, reception, **changes)
        assert (refusal.value.message, refusal.value.field) == (message, field)
    assert not Recall.objects.exists()


@pytest.mark.parametrize(("role", "reveal"), [(Role.PATIENT, False), (Role.ADMIN, True)])
def test_patients_and_administrators_cannot_create_recalls(calendar, patient_user, role, reveal):
    # The patient asks for their own recall: still refused, as if it did not exist.
    user = patient_user if role == Role.PATIENT else factories.user(role=role)

    with pytest.raises(AccessRefused) as refusal:
        _recall(calendar, user)

    assert refusal.value.reveal is reveal
    assert not Recall.objects.exists()
    assert AuditEntry.objects.get(object_type="recall", outcome="refused").actor == user


def test_reception_without_the_second_factor_is_refused(calendar, staff):
    user = staff[Role.RECEPTION]
    user.is_verified = lambda: False

    with pytest.raises(AccessRefused):
        recalls.recall_create(
            context=AuditContext(actor=user),
            patient=calendar.patient,
            service=calendar.service,
            due_by=_today(),
        )
    assert not Recall.objects.exists()


# Closing by booking


def test_booking_closes_the_recall_only_for_that_patient_and_service(calendar, staff):
    reception = staff[Role.RECEPTION]
    physio = _other_service(calendar)
    other_patient = factories.patient()
    recalled = _recall(calendar, reception)
    other_service = _recall(calendar, reception, service=physio)
    someone_else = _recall(calendar, reception, patient=other_patient)

    appointment = _book(calendar, reception)

    recalled.refresh_from_db()
    assert recalled.status == RecallStatus.BOOKED
    assert recalled.appointment == appointment
    assert recalled.closed_reason == recalls.CLOSED_BOOKED
    assert recalled.closed_at is not None
    for untouched in (other_service, someone_else):
        untouched.refresh_from_db()
        assert untouched.status == RecallStatus.OPEN
    assert AuditEntry.objects.filter(
        object_type="recall", action="update", detail=f"booked by appointment {appointment.pk}"
    ).exists()


def test_a_patient_booking_online_closes_their_recall(calendar, staff, patient_user):
    recall = _recall(calendar, staff[Role.RECEPTION])

    appointment = _book(calendar, patient_user)

    recall.refresh_from_db()
    assert (recall.status, recall.appointment) == (RecallStatus.BOOKED, appointment)


def test_a_refused_booking_leaves_the_recall_open(calendar, staff, patient_user):
    recall = _recall(calendar, staff[Role.RECEPTION])
    _book(calendar, staff[Role.RECEPTION], patient=factories.patient())

    with pytest.raises(services.BookingRefused):
        _book(calendar, patient_user)

    recall.refresh_from_db()
    assert recall.status == RecallStatus.OPEN


# Closing because the patient died or was discharged


@pytest.mark.parametrize(
    ("change", "reason"),
    [("date_of_death", recalls.CLOSED_DIED), ("discharged_on", recalls.CLOSED_DISCHARGED)],
)
def test_showing_the_list_closes_recalls_of_patients_no_longer_under_care(
    client, calendar, staff, change, reason
):
    reception = staff[Role.RECEPTION]
    gone = _recall(calendar, reception)
    staying = _recall(calendar, reception, patient=factories.patient(family_name="Staying"))
    Patient.objects.filter(pk=calendar.patient.pk).update(**{change: _today()})
    sign_in(client, reception)

    page = client.get("/appointments/recalls/").content.decode()

    gone.refresh_from_db()
    staying.refresh_from_db()
    assert (gone.status, gone.closed_reason) == (RecallStatus.CLOSED, reason)
    assert staying.status == RecallStatus.OPEN
    assert calendar.patient.full_name not in page
    assert "Staying" in page
    assert AuditEntry.objects.filter(
        object_type="recall", action="update", patient=calendar.patient, detail__contains="closed"
    ).exists()


def test_code_recording_a_death_closes_that_patients_recalls(calendar, staff):
    recall = _recall(calendar, staff[Role.CLINICIAN])
    other = _recall(calendar, staff[Role.CLINICIAN], patient=factories.patient())
    Patient.objects.filter(pk__in=[calendar.patient.pk, other.patient_id]).update(
        date_of_death=_today()
    )
    system = AuditContext(actor=None, channel=AuditChannel.SYSTEM)

    closed = recalls.recalls_close_ineligible(context=system, patient=calendar.patient)

    assert closed == 1
    recall.refresh_from_db()
    other.refresh_from_db()
    assert recall.status == RecallStatus.CLOSED
    assert other.status == RecallStatus.OPEN


@pytest.mark.parametrize("role", [None, Role.PATIENT, Role.ADMIN])
def test_only_staff_or_the_system_close_ineligible_recalls(calendar, staff, role):
    recall = _recall(calendar, staff[Role.CLINICIAN])
    Patient.objects.filter(pk=calendar.patient.pk).update(discharged_on=_today())
    context = (
        AuditContext(actor=None, channel=AuditChannel.WEB)
        if role is None
        else _context(factories.user(role=role))
    )

    with pytest.raises(AccessRefused):
        recalls.recalls_close_ineligible(context=context)

    recall.refresh_from_db()
    assert recall.status == RecallStatus.OPEN


# Contact attempts and closing by hand


def test_contact_attempts_are_recorded_and_listed(client, calendar, staff):
    recall = _recall(calendar, staff[Role.RECEPTION])
    sign_in(client, staff[Role.RECEPTION])

    first = client.post(
        f"/appointments/recalls/{recall.pk}/contact/",
        {"method": "phone", "outcome": "no_answer", "note": ""},
    )
    second = client.post(
        f"/appointments/recalls/{recall.pk}/contact/",
        {"method": "letter", "outcome": "sent", "note": "Sent the recall letter"},
    )
    listing = client.get("/appointments/recalls/").content.decode()
    detail = client.get(f"/appointments/recalls/{recall.pk}/").content.decode()

    assert first.status_code == second.status_code == 302
    assert list(recall.contacts.values_list("method", "outcome", "by")) == [
        ("phone", "no_answer", staff[Role.RECEPTION].pk),
        ("letter", "sent", staff[Role.RECEPTION].pk),
    ]
    assert "2 attempts" in listing
    assert 'Letter, Sent: <span class="user-text">Sent the recall letter</span>' in listing
    assert "Telephone, No answer" in detail
    assert "Letter, Sent" in detail
    assert (
        AuditEntry.objects.filter(object_type="recall", detail__startswith="contact:").count() == 2
    )


def test_a_closed_recall_takes_no_more_contact_attempts(calendar, staff):
    reception = staff[Role.RECEPTION]
    recall = _recall(calendar, reception)
    recalls.recall_close(context=_context(reception), recall_id=recall.pk, reason="Declined")

    with pytest.raises(recalls.RecallRefused, match=recalls.NOT_OPEN):
        recalls.recall_record_contact(
            context=_context(reception), recall_id=recall.pk, method="phone", outcome="no_answer"
        )
    with pytest.raises(recalls.RecallRefused, match=recalls.NOT_OPEN):
        recalls.recall_close(context=_context(reception), recall_id=recall.pk, reason="again")

    assert not RecallContact.objects.exists()
    recall.refresh_from_db()
    assert (recall.status, recall.closed_reason) == (RecallStatus.CLOSED, "Declined")
    assert AuditEntry.objects.filter(object_type="recall", outcome="refused").count() == 2


@pytest.mark.parametrize(
    "case",
    [
        ("fax", "no_answer", "", "method"),
        ("phone", "maybe", "", "outcome"),
        ("phone", "no_answer", "x" * 201, "note"),
    ],
)
def test_the_contact_service_checks_its_input(calendar, staff, case):
    method, outcome, note, field = case
    recall = _recall(calendar, staff[Role.RECEPTION])

    with pytest.raises(recalls.RecallRefused) as refusal:
        recalls.recall_record_contact(
            context=_context(staff[Role.RECEPTION]),
            recall_id=recall.pk,
            method=method,
            outcome=outcome,
            note=note,
        )

    assert refusal.value.field == field
    assert not RecallContact.objects.exists()


def test_an_unknown_recall_is_refused_and_audited(calendar, staff):
    with pytest.raises(recalls.RecallNotFound):
        recalls.recall_close(context=_context(staff[Role.RECEPTION]), recall_id=999, reason="x")
    assert AuditEntry.objects.filter(object_type="recall", outcome="refused").exists()


# The pages: who may see them


@pytest.mark.parametrize("case", [(Role.PATIENT, 404), (Role.ADMIN, 403)])
def test_patients_and_administrators_are_refused_every_recall_page(
    client, calendar, staff, patient_user, case
):
    role, status = case
    recall = _recall(calendar, staff[Role.RECEPTION])
    user = patient_user if role == Role.PATIENT else staff[Role.ADMIN]
    sign_in(client, user)
    before = AuditEntry.objects.filter(outcome="refused").count()

    answers = [
        client.get("/appointments/recalls/").status_code,
        client.get(f"/appointments/recalls/{recall.pk}/").status_code,
        client.post(
            f"/appointments/recalls/{recall.pk}/contact/",
            {"method": "phone", "outcome": "no_answer"},
        ).status_code,
        client.post(f"/appointments/recalls/{recall.pk}/close/", {"reason": "x"}).status_code,
        client.get(f"/appointments/recalls/new/{calendar.patient.pk}/").status_code,
        client.post(
            f"/appointments/recalls/new/{calendar.patient.pk}/",
            {"service": "toxin", "due_by": _today().isoformat()},
        ).status_code,
    ]

    assert answers == [status] * 6
    assert AuditEntry.objects.filter(outcome="refused").count() == before + 6
    assert not RecallContact.objects.exists()
    assert Recall.objects.get().status == RecallStatus.OPEN
    assert Recall.objects.count() == 1


def test_a_missing_recall_page_is_404(client, calendar, staff):
    sign_in(client, staff[Role.RECEPTION])

    assert client.get("/appointments/recalls/999/").status_code == 404
    assert client.post("/appointments/recalls/999/close/", {"reason": "x"}).status_code == 404
    assert client.get("/appointments/recalls/new/999/").status_code == 404


def test_posting_without_the_csrf_token_is_refused(calendar, staff):
    recall = _recall(calendar, staff[Role.RECEPTION])
    client = sign_in(Client(enforce_csrf_checks=True), staff[Role.RECEPTION])

    response = client.post(
        f"/appointments/recalls/{recall.pk}/contact/", {"method": "phone", "outcome": "no_answer"}
    )

    assert response.status_code == 403
    assert not RecallContact.objects.exists()


# The pages: the list


def test_the_list_shows_who_is_due_and_who_is_overdue_in_words(client, calendar, staff):
    reception = staff[Role.RECEPTION]
    _recall(
        calendar,
        reception,
        due_by=_today() - timedelta(days=3),
        site=calendar.site,
        practitioner=calendar.practitioner,
    )
    _recall(calendar, reception, patient=factories.patient(family_name="Later"))
    sign_in(client, reception)

    page = client.get("/appointments/recalls/").content.decode()

    assert calendar.patient.hospital_number in page
    assert "Overdue" in page
    assert page.count("Overdue") == 1
    assert calendar.site.name in page
    assert calendar.practitioner.display_name in page
    assert "None yet" in page
    assert AuditEntry.objects.filter(object_type="recall_list", action="read").count() == 2


def test_the_list_filters_by_site_practitioner_service_due_date_and_status(client, calendar, staff):
    reception = staff[Role.RECEPTION]
    physio = _other_service(calendar)
    near = _recall(
        calendar,
        reception,
        due_by=_today() + timedelta(days=5),
        site=calendar.site,
        practitioner=calendar.practitioner,
        patient=factories.patient(family_name="Near"),
    )
    _recall(
        calendar,
        reception,
        due_by=_today() + timedelta(days=60),
        service=physio,
        patient=factories.patient(family_name="Far"),
    )
    closed = _recall(calendar, reception, patient=factories.patient(family_name="Shut"))
    recalls.recall_close(context=_context(reception), recall_id=closed.pk, reason="Declined")
    sign_in(client, reception)

    def shown(**params):
        page = client.get("/appointments/recalls/", params).content.decode()
        return {name for name in ("Near", "Far", "Shut") if name in page}

    assert shown() == {"Near", "Far"}
    assert shown(site="test-site") == {"Near"}
    assert shown(practitioner="dr-test") == {"Near"}
    assert shown(service="physio") == {"Far"}
    assert shown(due_by=(_today() + timedelta(days=10)).isoformat()) == {"Near"}
    assert shown(status="closed") == {"Shut"}
    assert shown(status="all") == {"Near", "Far", "Shut"}
    assert near.patient.hospital_number in client.get("/appointments/recalls/").content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"site": "nowhere"}, "Select a valid choice."),
        ({"practitioner": "<script>"}, "Select a valid choice."),
        ({"due_by": "10000-01-01"}, "Enter a valid date."),
        ({"due_by": "2027-02-30"}, "Enter a valid date."),
        ({"due_by": "1066-10-14"}, "Choose a date within three years of today."),
        ({"status": "bogus"}, "Select a valid choice."),
        ({"page": "0"}, "greater than or equal to 1"),
        ({"page": "many"}, "Enter a whole number."),
    ],
)
def test_bad_filters_are_400_with_a_message(client, calendar, staff, params, message):
    sign_in(client, staff[Role.RECEPTION])

    response = client.get("/appointments/recalls/", params)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()


def test_the_list_is_paged(client, calendar, staff, monkeypatch):
    monkeypatch.setattr(recall_selectors, "RECALL_PAGE_SIZE", 2)
    reception = staff[Role.RECEPTION]
    for n in range(5):
        _recall(
            calendar,
            reception,
            patient=factories.patient(family_name=f"Paged{n}"),
            due_by=_today() + timedelta(days=n),
        )
    sign_in(client, reception)

    second = client.get("/appointments/recalls/", {"page": 2}).content.decode()
    beyond = client.get("/appointments/recalls/", {"page": 99}).content.decode()

    assert "Paged2" in second
    assert "Paged3" in second
    assert "Paged0" not in second
    assert "page 2 of 3" in second
    assert "Paged4" in beyond


def _list_queries(client, calendar, reception, count):
    for n in range(count - Recall.objects.count()):
        recall = _recall(calendar, reception, patient=factories.patient(), site=calendar.site)
        for method in ("phone", "letter"):
            RecallContact.objects.create(
                recall=recall, method=method, outcome="sent", by=reception, note=f"n{n}"
            )
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/appointments/recalls/")
    assert response.status_code == 200
    return len(queries)


def test_the_list_makes_the_same_number_of_queries_for_3_and_30_recalls(client, calendar, staff):
    reception = staff[Role.RECEPTION]
    sign_in(client, reception)
    client.get("/appointments/recalls/")  # the session's first request does its own sign-in work

    assert _list_queries(client, calendar, reception, 3) == _list_queries(
        client, calendar, reception, 30
    )


# The pages: forms


def test_reception_adds_a_recall_from_the_patient_page(client, calendar, staff):
    sign_in(client, staff[Role.RECEPTION])
    due_by = _today() + timedelta(weeks=12)

    patient_page = client.get(f"/records/patients/{calendar.patient.pk}/").content.decode()
    form = client.get(f"/appointments/recalls/new/{calendar.patient.pk}/")
    response = client.post(
        f"/appointments/recalls/new/{calendar.patient.pk}/",
        {
            "service": "toxin",
            "due_by": due_by.isoformat(),
            "site": "test-site",
            "practitioner": "dr-test",
            "reason": SCRIPT,
        },
    )
    listing = client.get("/appointments/recalls/").content.decode()
    after = client.get(f"/records/patients/{calendar.patient.pk}/").content.decode()

    assert f"/appointments/recalls/new/{calendar.patient.pk}/" in patient_page
    assert form.status_code == 200
    assert response.status_code == 302
    recall = Recall.objects.get()
    assert (recall.site, recall.practitioner, recall.reason) == (
        calendar.site,
        calendar.practitioner,
        SCRIPT,
    )
    assert SCRIPT not in listing
    assert escape(SCRIPT) in listing
    assert f"Toxin clinic due by {due_by.day} {due_by:%B %Y}" in after


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"service": ""}, "This field is required."),
        ({"service": "nonsense"}, "Select a valid choice."),
        ({"due_by": ""}, "This field is required."),
        ({"due_by": "10000-01-01"}, "Enter a valid date."),
        ({"due_by": "2027-13-45"}, "Enter a valid date."),
        ({"due_by": "soon"}, "Enter a valid date."),
        ({"due_by": "2099-01-01"}, recalls.DUE_BY_OUT_OF_RANGE),
        ({"site": "nowhere"}, "Select a valid choice."),
        ({"practitioner": SCRIPT}, "Select a valid choice."),
        ({"reason": "x" * 201}, recalls.TEXT_TOO_LONG),
    ],
)
def test_bad_input_to_the_new_recall_form_is_400_and_writes_nothing(
    client, calendar, staff, changes, message
):
    sign_in(client, staff[Role.RECEPTION])
    data = {"service": "toxin", "due_by": _today().isoformat(), "site": "", "reason": ""} | changes

    response = client.post(f"/appointments/recalls/new/{calendar.patient.pk}/", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert escape(message) in page
    assert 'class="error-message"' in page
    assert SCRIPT not in page
    assert not Recall.objects.exists()


def test_the_new_recall_form_explains_a_patient_no_longer_under_care(client, calendar, staff):
    Patient.objects.filter(pk=calendar.patient.pk).update(discharged_on=_today())
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(
        f"/appointments/recalls/new/{calendar.patient.pk}/",
        {"service": "toxin", "due_by": _today().isoformat()},
    )

    assert response.status_code == 400
    assert escape(recalls.NOT_UNDER_CARE) in response.content.decode()
    assert not Recall.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "no_answer"}, "This field is required."),
        ({"method": "fax", "outcome": "no_answer"}, "Select a valid choice."),
        ({"method": "phone", "outcome": SCRIPT}, "Select a valid choice."),
        ({"method": "phone", "outcome": "no_answer", "note": "x" * 201}, recalls.TEXT_TOO_LONG),
    ],
)
def test_bad_input_to_the_contact_form_is_400_and_writes_nothing(
    client, calendar, staff, data, message
):
    recall = _recall(calendar, staff[Role.RECEPTION])
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(f"/appointments/recalls/{recall.pk}/contact/", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert escape(message) in page
    assert SCRIPT not in page
    assert not RecallContact.objects.exists()


def test_a_note_with_markup_is_shown_escaped(client, calendar, staff):
    recall = _recall(calendar, staff[Role.RECEPTION])
    sign_in(client, staff[Role.RECEPTION])

    client.post(
        f"/appointments/recalls/{recall.pk}/contact/",
        {"method": "phone", "outcome": "left_message", "note": SCRIPT},
    )

    for url in ("/appointments/recalls/", f"/appointments/recalls/{recall.pk}/"):
        page = client.get(url).content.decode()
        assert SCRIPT not in page
        assert escape(SCRIPT) in page


@pytest.mark.parametrize(
    ("reason", "message"), [("", "This field is required."), ("x" * 201, recalls.TEXT_TOO_LONG)]
)
def test_closing_needs_a_short_reason(client, calendar, staff, reason, message):
    recall = _recall(calendar, staff[Role.RECEPTION])
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(f"/appointments/recalls/{recall.pk}/close/", {"reason": reason})

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    recall.refresh_from_db()
    assert recall.status == RecallStatus.OPEN


def test_closing_by_hand_takes_it_off_the_due_list(client, calendar, staff):
    recall = _recall(calendar, staff[Role.RECEPTION])
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(
        f"/appointments/recalls/{recall.pk}/close/", {"reason": "Seen at another hospital"}
    )
    again = client.post(f"/appointments/recalls/{recall.pk}/close/", {"reason": "twice"})

    assert response.status_code == 302
    assert (
        calendar.patient.hospital_number
        not in client.get("/appointments/recalls/").content.decode()
    )
    assert again.status_code == 400
    assert escape(recalls.NOT_OPEN) in again.content.decode()
    recall.refresh_from_db()
    assert recall.closed_reason == "Seen at another hospital"


def test_the_book_link_opens_the_reception_booking_for_that_patient_and_practitioner(
    client, calendar, staff
):
    other = factories.practitioner(
        slug="dr-other", sites=[calendar.site], services=[calendar.service]
    )
    recall = _recall(
        calendar, staff[Role.RECEPTION], site=calendar.site, practitioner=calendar.practitioner
    )
    sign_in(client, staff[Role.RECEPTION])
    listing = client.get("/appointments/recalls/").content.decode()
    query = book_query(recall)

    booking = client.get(f"/appointments/book/?{query}")

    assert escape(f"/appointments/book/?{query}") in listing
    assert booking.status_code == 200
    page = booking.content.decode()
    assert "First available time" in page
    assert "practitioner=dr-test" in page
    assert other.display_name not in page.split("slots-heading")[1]
    assert f"patient={calendar.patient.hospital_number}" in page


def test_cancelling_the_booking_makes_the_recall_due_again(calendar, staff):
    reception = staff[Role.RECEPTION]
    recall = _recall(calendar, reception)
    appointment = _book(calendar, reception)

    services.appointment_cancel(
        context=_context(reception), appointment_id=appointment.pk, reason="Unwell (made up)"
    )

    recall.refresh_from_db()
    assert (recall.status, recall.appointment, recall.closed_at) == (RecallStatus.OPEN, None, None)
    assert AuditEntry.objects.filter(
        object_type="recall", detail=f"due again: appointment {appointment.pk} cancelled"
    ).exists()
