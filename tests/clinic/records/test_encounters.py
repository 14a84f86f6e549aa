"""Encounters: started from an appointment or on their own, notes edited while a draft,
signed and then locked, addenda instead of edits; only clinicians, every access audited,
nothing half-written on a refusal."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry, AuditOutcome
from clinic.audit.services import AuditContext
from clinic.records import encounters
from clinic.records.access import AccessRefused
from clinic.records.encounter_forms import BAD_DATE
from clinic.records.encounters import EncounterRefused
from clinic.records.locks import BUSY
from clinic.records.models import Addendum, AlertKind, Encounter, EncounterKind, PatientAlert
from clinic.scheduling import services as scheduling_services
from clinic.scheduling.availability import clinic_tz, local_today
from clinic.scheduling.models import Appointment, AppointmentStatus
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
NOTES = "Neck turning to the left for two years. Plan: toxin to right SCM."


# Builders, shared with test_clinic_list.py


def context_of(user):
    """A service-level context for a user who has passed two-factor sign-in."""
    user.is_verified = lambda: True
    return AuditContext(actor=user)


def today_at(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    """A local (Europe/London) time today, or ``days`` from today."""
    return datetime.combine(local_today() + timedelta(days=days), time(hour, minute), clinic_tz())


def appointment_for(*, patient, practitioner, site, service, start, booked_by, **fields):
    """An appointment written directly (the booking rules are tested elsewhere). Five
    minutes long, so the tests' appointments a few minutes apart never overlap (PostgreSQL's
    exclusion constraints would refuse them)."""
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        site=site,
        service=service,
        start=start,
        end=start + timedelta(minutes=5),
        blocked_until=start + timedelta(minutes=5),
        booked_by=booked_by,
        **fields,
    )


@pytest.fixture
def clinic(db, staff, patient_user):
    """A site, a toxin service, a clinician with a practitioner entry, and their patient's
    appointment at 00:05 today (already begun, whatever time the tests run)."""
    site = factories.site(slug="enc-site")
    service = factories.service(slug="botulinum-toxin-clinic", name="Botulinum toxin clinic")
    practitioner = factories.practitioner(sites=[site], services=[service])
    clinician = factories.user(role=Role.CLINICIAN, practitioner=practitioner, full_name="Dr Ann")
    patient = patient_user.patient_record
    appointment = appointment_for(
        patient=patient,
        practitioner=practitioner,
        site=site,
        service=service,
        start=today_at(0, 5),
        booked_by=staff[Role.RECEPTION],
    )
    return {
        "site": site,
        "service": service,
        "practitioner": practitioner,
        "clinician": clinician,
        "patient": patient,
        "appointment": appointment,
    }


def _start(clinic, user=None, **changes):
    values = {
        "patient": clinic["patient"],
        "kind": EncounterKind.TOXIN_CLINIC,
        "appointment": clinic["appointment"],
    } | changes
    encounter, _created = encounters.encounter_start(
        context=context_of(user or clinic["clinician"]), **values
    )
    return encounter


def _save(clinic, encounter, notes, user=None):
    return encounters.encounter_update_notes(
        context=context_of(user or clinic["clinician"]),
        encounter_id=encounter.pk,
        notes=notes,
        expected_updated_at=encounter.updated_at,
    )


def _sign(clinic, encounter, user=None):
    return encounters.encounter_sign(
        context=context_of(user or clinic["clinician"]), encounter_id=encounter.pk
    )


def _signed(clinic):
    encounter = _save(clinic, _start(clinic), NOTES)
    return _sign(clinic, encounter)


def _last_audit_pk() -> int:
    """The newest audit entry's key (ids keep counting across tests on PostgreSQL)."""
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _entries(**filters):
    return list(
        AuditEntry.objects.filter(**filters)
        .order_by("pk")
        .values_list("action", "outcome", "object_type")
    )


# The lifecycle


def test_starting_from_an_appointment_takes_the_patient_site_and_time_from_it(clinic):
    encounter = _start(clinic)

    appointment = clinic["appointment"]
    assert encounter.appointment == appointment
    assert encounter.patient == clinic["patient"]
    assert encounter.site == appointment.site
    assert encounter.started_at == min(appointment.start, encounter.created_at)
    assert encounter.clinician == clinic["clinician"]
    assert not encounter.is_signed
    assert _entries(patient=clinic["patient"], object_type="encounter") == [
        ("create", "allowed", "encounter")
    ]


def test_a_second_start_for_the_same_appointment_opens_the_first(clinic, staff):
    first, created = encounters.encounter_start(
        context=context_of(clinic["clinician"]),
        patient=clinic["patient"],
        kind=EncounterKind.TOXIN_CLINIC,
        appointment=clinic["appointment"],
    )
    colleague = factories.user(role=Role.CLINICIAN)
    again, created_again = encounters.encounter_start(
        context=context_of(colleague),
        patient=clinic["patient"],
        kind=EncounterKind.CONSULTATION,
        appointment=clinic["appointment"],
    )

    assert created
    assert not created_again
    assert again == first
    assert Encounter.objects.count() == 1
    assert Encounter.objects.get().kind == EncounterKind.TOXIN_CLINIC


def test_a_standalone_encounter_is_a_walk_in_or_telephone_review(clinic):
    before = timezone.now()
    encounter = _start(clinic, appointment=None, kind=EncounterKind.FOLLOW_UP, site=clinic["site"])

    assert encounter.appointment is None
    assert encounter.site == clinic["site"]
    assert before <= encounter.started_at <= timezone.now()


def test_notes_are_saved_then_signed_and_the_encounter_is_locked(clinic):
    encounter = _save(clinic, _start(clinic), NOTES)
    signed = _sign(clinic, encounter)

    assert signed.is_signed
    assert signed.signed_by == clinic["clinician"]
    assert signed.notes == NOTES
    details = list(
        AuditEntry.objects.filter(object_type="encounter", action="update")
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == [f"notes saved ({len(NOTES)} characters)", "signed and locked"]


def test_editing_a_signed_encounter_is_refused_and_nothing_is_written(clinic):
    signed = _signed(clinic)

    with pytest.raises(EncounterRefused) as refused:
        _save(clinic, signed, "Changed afterwards")

    assert refused.value.message == encounters.LOCKED
    assert refused.value.status == 409
    signed_again = Encounter.objects.get()
    assert signed_again.notes == NOTES
    assert signed_again.updated_at == signed.updated_at
    assert AuditEntry.objects.filter(outcome="refused", detail__contains=encounters.LOCKED).exists()


def test_signing_twice_is_refused_and_changes_nothing(clinic):
    signed = _signed(clinic)

    with pytest.raises(EncounterRefused) as refused:
        _sign(clinic, signed)

    assert refused.value.message == encounters.ALREADY_SIGNED
    assert Encounter.objects.get().signed_at == signed.signed_at


def test_empty_notes_cannot_be_signed(clinic):
    encounter = _save(clinic, _start(clinic), "  \n ")

    with pytest.raises(EncounterRefused) as refused:
        _sign(clinic, encounter)

    assert refused.value.message == encounters.NOTES_REQUIRED
    assert not Encounter.objects.get().is_signed


def test_only_the_encounters_clinician_edits_and_signs_its_draft(clinic):
    encounter = _save(clinic, _start(clinic), NOTES)
    colleague = factories.user(role=Role.CLINICIAN, full_name="Dr Colleague")

    for attempt in (
        lambda: _save(clinic, encounter, "Overwritten", user=colleague),
        lambda: _sign(clinic, encounter, user=colleague),
    ):
        with pytest.raises(EncounterRefused) as refused:
            attempt()
        assert refused.value.status == 403
        assert refused.value.message == encounters.NOT_AUTHOR.format(name="Dr Ann")

    unchanged = Encounter.objects.get()
    assert (unchanged.notes, unchanged.signed_at) == (NOTES, None)


def test_any_clinician_adds_an_addendum_to_a_signed_encounter(clinic):
    signed = _signed(clinic)
    colleague = factories.user(role=Role.CLINICIAN)

    addendum = encounters.addendum_add(
        context=context_of(colleague), encounter_id=signed.pk, text="  Results: normal.  "
    )

    assert addendum.text == "Results: normal."
    assert addendum.author == colleague
    assert Encounter.objects.get().notes == NOTES
    assert _entries(object_type="addendum") == [("create", "allowed", "addendum")]


def test_an_addendum_needs_a_signed_encounter_and_some_text(clinic):
    draft = _start(clinic)
    context = context_of(clinic["clinician"])

    with pytest.raises(EncounterRefused) as not_signed:
        encounters.addendum_add(context=context, encounter_id=draft.pk, text="Too early")
    _sign(clinic, _save(clinic, draft, NOTES))
    with pytest.raises(EncounterRefused) as empty:
        encounters.addendum_add(context=context, encounter_id=draft.pk, text=" \n ")
    with pytest.raises(EncounterRefused) as too_long:
        encounters.addendum_add(
            context=context, encounter_id=draft.pk, text="x" * (encounters.ADDENDUM_MAX_LENGTH + 1)
        )

    assert not_signed.value.message == encounters.NOT_SIGNED
    assert empty.value.message == encounters.ADDENDUM_REQUIRED
    assert too_long.value.message == encounters.ADDENDUM_TOO_LONG
    assert not Addendum.objects.exists()


# Concurrency


def test_a_save_based_on_an_old_version_is_refused_rather_than_overwriting(clinic):
    opened = _start(clinic)  # two tabs open the same draft
    _save(clinic, opened, "Saved in the first tab")

    with pytest.raises(EncounterRefused) as refused:
        _save(clinic, opened, "Saved in the second tab")

    assert refused.value.message == encounters.STALE
    assert refused.value.status == 409
    assert Encounter.objects.get().notes == "Saved in the first tab"


def test_notes_changed_since_the_confirmation_page_are_not_signed_unseen(clinic):
    shown = _save(clinic, _start(clinic), NOTES)
    _save(clinic, shown, NOTES + " Also: review in 12 weeks.")

    with pytest.raises(EncounterRefused) as refused:
        encounters.encounter_sign(
            context=context_of(clinic["clinician"]),
            encounter_id=shown.pk,
            expected_updated_at=shown.updated_at,
        )

    assert refused.value.message == encounters.STALE
    assert not Encounter.objects.get().is_signed


# Wrong role: refused, audited, nothing written


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_other_staff_cannot_start_read_or_write_encounters(clinic, staff, role):
    signed = _signed(clinic)
    before = _last_audit_pk()
    context = context_of(staff[role])

    with pytest.raises(AccessRefused) as start:
        encounters.encounter_start(
            context=context,
            patient=clinic["patient"],
            kind=EncounterKind.CONSULTATION,
            site=clinic["site"],
        )
    with pytest.raises(AccessRefused) as addendum:
        encounters.addendum_add(context=context, encounter_id=signed.pk, text="Mine")

    assert start.value.reveal  # staff may know the patient exists (403)
    assert not addendum.value.reveal  # but not that an encounter with this id does (404)
    assert Encounter.objects.count() == 1
    assert not Addendum.objects.exists()
    refusals = AuditEntry.objects.filter(pk__gt=before)
    assert (
        list(refusals.values_list("outcome", "actor", "patient"))
        == [("refused", staff[role].pk, clinic["patient"].pk)] * 2
    )


def test_a_patient_cannot_write_even_their_own_encounters(clinic, patient_user):
    draft = _start(clinic)

    with pytest.raises(AccessRefused) as refused:
        _save(clinic, draft, "My own words", user=patient_user)

    assert not refused.value.reveal  # answered 404
    assert Encounter.objects.get().notes == ""
    assert _entries(actor=patient_user) == [("update", "refused", "encounter")]


@pytest.mark.parametrize(
    ("role", "status"), [(Role.RECEPTION, 403), (Role.ADMIN, 403), (Role.PATIENT, 404)]
)
def test_encounter_pages_refuse_everyone_but_clinicians(client, clinic, staff, role, status):
    signed = _signed(clinic)
    user = clinic["patient"].user if role == Role.PATIENT else staff[role]
    sign_in(client, user, second_factor=role != Role.PATIENT)
    patient = clinic["patient"]
    before = _last_audit_pk()

    encounter_pages = [
        client.get(f"/records/encounters/{signed.pk}/"),
        client.get(f"/records/encounters/{signed.pk}/sign/"),
        client.get(f"/records/encounters/{signed.pk}/addenda/new/"),
        client.post(f"/records/encounters/{signed.pk}/addenda/new/", {"text": "Mine"}),
    ]
    patient_pages = [
        client.get(f"/records/patients/{patient.pk}/encounters/new/"),
        client.post(
            f"/records/patients/{patient.pk}/encounters/new/",
            {"kind": "consultation", "site": "enc-site", "date": "2026-01-05", "time": "10:00"},
        ),
    ]
    pages = encounter_pages + patient_pages

    # Whether an encounter with an id exists is told to no one but clinicians (404).
    assert [page.status_code for page in encounter_pages] == [404] * len(encounter_pages)
    assert [page.status_code for page in patient_pages] == [status] * len(patient_pages)
    assert NOTES not in "".join(page.content.decode() for page in pages)
    assert Encounter.objects.count() == 1
    assert not Addendum.objects.exists()
    outcomes = set(AuditEntry.objects.filter(pk__gt=before).values_list("outcome", flat=True))
    assert outcomes == {"refused"}
    assert AuditEntry.objects.filter(pk__gt=before, patient=patient).count() == len(pages)


def test_a_patient_guessing_another_patients_encounter_gets_404(client, clinic, other_patient):
    other_clinic = {**clinic, "patient": other_patient}
    theirs = _start(other_clinic, appointment=None, site=clinic["site"])
    user = factories.user(role=Role.PATIENT)
    factories.patient(user=user)
    sign_in(client, user, second_factor=False)

    assert client.get(f"/records/encounters/{theirs.pk}/").status_code == 404
    assert client.get("/records/encounters/999999/").status_code == 404
    assert _entries(actor=user) == [
        ("read", "refused", "encounter"),
        ("read", "refused", "encounter"),
    ]


def test_a_stale_encounter_id_is_404_for_a_clinician_too(client, clinic):
    sign_in(client, clinic["clinician"])

    assert client.get("/records/encounters/999999/").status_code == 404
    assert client.post("/records/encounters/999999/addenda/new/", {"text": "x"}).status_code == 404


# Bad input


def test_a_kind_not_in_the_list_is_refused(clinic, client):
    with pytest.raises(EncounterRefused) as refused:
        _start(clinic, kind="surgery")
    sign_in(client, clinic["clinician"])
    response = client.post(
        f"/records/patients/{clinic['patient'].pk}/encounters/new/"
        f"?appointment={clinic['appointment'].pk}",
        {"kind": "surgery", "notes": "x"},
    )

    assert (refused.value.field, refused.value.message) == ("kind", encounters.BAD_KIND)
    assert response.status_code == 400
    assert encounters.BAD_KIND in response.content.decode()
    assert not Encounter.objects.exists()


@pytest.mark.parametrize(
    ("started_at", "message"),
    [
        (lambda: timezone.now() + timedelta(hours=1), encounters.IN_FUTURE),
        (lambda: timezone.now() + timedelta(days=400), encounters.IN_FUTURE),
        (lambda: datetime(1969, 12, 31, 12, tzinfo=clinic_tz()), encounters.BEFORE_BIRTH),
        (lambda: datetime(2026, 1, 5, 10), encounters.BAD_TIME),  # naive  # noqa: DTZ001
    ],
)
def test_a_start_in_the_future_or_before_birth_is_refused(clinic, started_at, message):
    with pytest.raises(EncounterRefused) as refused:
        _start(clinic, appointment=None, site=clinic["site"], started_at=started_at())

    assert (refused.value.field, refused.value.message) == ("started_at", message)
    assert not Encounter.objects.exists()
    assert AuditEntry.objects.filter(outcome="refused", detail__contains=message).exists()


def test_a_start_a_moment_ahead_of_the_clock_is_allowed(clinic):
    encounter = _start(
        clinic,
        appointment=None,
        site=clinic["site"],
        started_at=timezone.now() + timedelta(minutes=2),
    )

    assert encounter.pk


def test_an_appointment_that_cannot_have_an_encounter_is_refused(clinic, staff, other_patient):
    cancelled = appointment_for(
        patient=clinic["patient"],
        practitioner=clinic["practitioner"],
        site=clinic["site"],
        service=clinic["service"],
        start=today_at(0, 40),
        booked_by=staff[Role.RECEPTION],
        status=AppointmentStatus.CANCELLED,
    )
    tomorrow = appointment_for(
        patient=clinic["patient"],
        practitioner=clinic["practitioner"],
        site=clinic["site"],
        service=clinic["service"],
        start=today_at(9, days=1),
        booked_by=staff[Role.RECEPTION],
    )
    day = local_today() + timedelta(days=1)

    problems = []
    for appointment, patient in (
        (cancelled, clinic["patient"]),
        (tomorrow, clinic["patient"]),
        (clinic["appointment"], other_patient),
    ):
        with pytest.raises(EncounterRefused) as refused:
            _start(clinic, appointment=appointment, patient=patient)
        problems.append(refused.value.message)

    assert problems == [
        encounters.APPOINTMENT_NOT_SEEN,
        encounters.APPOINTMENT_LATER.format(day=f"{day.day} {day:%B %Y}"),
        encounters.OTHER_PATIENTS_APPOINTMENT,
    ]
    assert not Encounter.objects.exists()


@pytest.mark.parametrize(
    ("date_value", "time_value", "message"),
    [
        ("2026-02-30", "10:00", BAD_DATE),
        ("yesterday", "10:00", BAD_DATE),
        ("31/12/2026", "25:61", "Enter a time of day"),
        ("9999-12-31", "10:00", encounters.IN_FUTURE),
        ("01/01/1900", "10:00", encounters.BEFORE_BIRTH),
    ],
)
def test_the_start_form_shows_bad_dates_beside_the_field(
    client, clinic, date_value, time_value, message
):
    sign_in(client, clinic["clinician"])
    form = {"kind": "follow_up", "site": "enc-site", "date": date_value, "time": time_value}
    form["notes"] = "Kept text"

    response = client.post(f"/records/patients/{clinic['patient'].pk}/encounters/new/", form)

    page = response.content.decode()
    assert response.status_code == 400
    assert escape(message) in page
    assert 'aria-invalid="true"' in page
    assert "Kept text" in page
    assert not Encounter.objects.exists()


def test_a_million_characters_of_notes_are_refused_and_nothing_is_written(client, clinic):
    draft = _start(clinic)
    sign_in(client, clinic["clinician"])
    huge = "x" * 1_000_000

    response = client.post(
        f"/records/encounters/{draft.pk}/",
        {"notes": huge, "updated_at": draft.updated_at.isoformat()},
    )
    with pytest.raises(EncounterRefused) as refused:
        _save(clinic, draft, huge)

    assert response.status_code == 400
    assert encounters.NOTES_TOO_LONG in response.content.decode()
    assert refused.value.message == encounters.NOTES_TOO_LONG
    assert Encounter.objects.get().notes == ""


def test_a_nul_character_is_refused(clinic):
    with pytest.raises(EncounterRefused) as refused:
        _save(clinic, _start(clinic), "before\x00after")

    assert refused.value.message == encounters.NUL_CHARACTER


def test_script_in_notes_and_addenda_is_shown_as_text(client, clinic):
    encounter = _save(clinic, _start(clinic), SCRIPT)
    _sign(clinic, encounter)
    encounters.addendum_add(
        context=context_of(clinic["clinician"]), encounter_id=encounter.pk, text=SCRIPT
    )
    sign_in(client, clinic["clinician"])

    page = client.get(f"/records/encounters/{encounter.pk}/").content.decode()

    assert SCRIPT not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2


# Through the pages


def test_a_clinician_starts_writes_signs_and_adds_to_an_encounter(client, clinic):
    sign_in(client, clinic["clinician"])
    patient, appointment = clinic["patient"], clinic["appointment"]
    new_url = f"/records/patients/{patient.pk}/encounters/new/?appointment={appointment.pk}"

    form = client.get(new_url)
    assert form.status_code == 200
    assert re.search(r'value="toxin_clinic"[^>]* checked', form.content.decode())
    started = client.post(new_url, {"kind": "toxin_clinic", "notes": ""})
    encounter = Encounter.objects.get()
    assert started.url == f"/records/encounters/{encounter.pk}/"
    assert client.get(new_url).url == started.url  # a second Start opens it

    saved = client.post(
        started.url,
        {"notes": NOTES, "updated_at": encounter.updated_at.isoformat(), "then": "sign"},
    )
    assert saved.url == f"/records/encounters/{encounter.pk}/sign/"
    confirm = client.get(saved.url)
    assert "Sign and lock" in confirm.content.decode()
    encounter.refresh_from_db()
    signed = client.post(saved.url, {"updated_at": encounter.updated_at.isoformat()})
    assert signed.url == started.url
    page = client.get(started.url).content.decode()
    assert "Signed and locked" in page
    assert "Save notes" not in page

    late = client.post(started.url, {"notes": "Late change", "updated_at": "x"})
    encounter.refresh_from_db()
    late_edit = client.post(
        started.url, {"notes": "Late change", "updated_at": encounter.updated_at.isoformat()}
    )
    assert late.status_code == 400
    assert late_edit.status_code == 409
    assert encounters.LOCKED in late_edit.content.decode()
    assert "Late change" in late_edit.content.decode()  # kept to copy into an addendum
    assert Encounter.objects.get().notes == NOTES

    added = client.post(
        f"/records/encounters/{encounter.pk}/addenda/new/", {"text": "Toxin batch 123."}
    )
    assert added.status_code == 302
    assert "Toxin batch 123." in client.get(started.url).content.decode()


def test_every_encounter_page_shows_the_allergy_banner(client, clinic):
    PatientAlert.objects.create(
        patient=clinic["patient"],
        kind=AlertKind.ALLERGY,
        detail="Penicillin: rash",
        recorded_by=clinic["clinician"],
    )
    signed = _signed(clinic)
    patient = clinic["patient"]
    sign_in(client, clinic["clinician"])

    pages = [
        f"/records/encounters/{signed.pk}/",
        f"/records/encounters/{signed.pk}/sign/",
        f"/records/encounters/{signed.pk}/addenda/new/",
        f"/records/patients/{patient.pk}/encounters/new/",
    ]

    for url in pages:
        assert "Penicillin: rash" in client.get(url).content.decode(), url


def test_a_stale_save_keeps_the_writers_text_and_shows_the_saved_notes(client, clinic):
    draft = _start(clinic)
    seen = draft.updated_at.isoformat()
    _save(clinic, draft, "Saved in another tab")
    sign_in(client, clinic["clinician"])

    response = client.post(
        f"/records/encounters/{draft.pk}/", {"notes": "Mine", "updated_at": seen}
    )

    page = response.content.decode()
    assert response.status_code == 409
    assert encounters.STALE in page
    assert "Saved in another tab" in page
    assert "Mine</textarea>" in page
    assert Encounter.objects.get().notes == "Saved in another tab"
    current = Encounter.objects.get().updated_at.isoformat()
    assert f'value="{current}"' in page  # saving again is a choice made with both in view


def test_another_clinician_sees_a_draft_read_only(client, clinic):
    draft = _save(clinic, _start(clinic), NOTES)
    colleague = factories.user(role=Role.CLINICIAN)
    sign_in(client, colleague)

    page = client.get(f"/records/encounters/{draft.pk}/")
    refused = client.post(
        f"/records/encounters/{draft.pk}/",
        {"notes": "Colleague's", "updated_at": draft.updated_at.isoformat()},
    )

    assert NOTES in page.content.decode()
    assert "Save notes" not in page.content.decode()
    assert refused.status_code == 403
    assert "Colleague&#x27;s" in refused.content.decode()
    assert Encounter.objects.get().notes == NOTES


def test_the_patient_page_lists_encounters_for_clinicians_only(client, clinic, staff):
    _save(clinic, _start(clinic), NOTES)
    url = f"/records/patients/{clinic['patient'].pk}/"

    sign_in(client, clinic["clinician"])
    as_clinician = client.get(url).content.decode()
    sign_in(client, staff[Role.RECEPTION])
    before = _last_audit_pk()
    as_reception = client.get(url).content.decode()

    assert "Encounters" in as_clinician
    assert "Botulinum toxin clinic" in as_clinician
    assert "Draft" in as_clinician
    assert "Encounters" not in as_reception
    assert not AuditEntry.objects.filter(pk__gt=before, object_type="encounter").exists()


# Whatever happens, a signed encounter's notes never change

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["save", "sign", "addendum", "stale_save"]),
        st.text(max_size=40),
    ),
    max_size=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_once_signed_the_notes_never_change(clinic, operations):
    encounter = _start(clinic, appointment=None, site=clinic["site"])
    context = context_of(clinic["clinician"])
    stale = encounter.updated_at
    signed_notes = None
    for operation, text in operations:
        current = Encounter.objects.get(pk=encounter.pk)
        try:
            if operation == "save":
                _save(clinic, current, text)
            elif operation == "stale_save":
                encounters.encounter_update_notes(
                    context=context,
                    encounter_id=encounter.pk,
                    notes=text,
                    expected_updated_at=stale,
                )
            elif operation == "sign":
                encounters.encounter_sign(context=context, encounter_id=encounter.pk)
            else:
                encounters.addendum_add(context=context, encounter_id=encounter.pk, text=text)
        except EncounterRefused:
            pass
        after = Encounter.objects.get(pk=encounter.pk)
        if signed_notes is not None:
            assert after.notes == signed_notes
        if after.is_signed and signed_notes is None:
            signed_notes = after.notes
    if signed_notes is None:
        assert not Addendum.objects.filter(encounter=encounter).exists()


def test_kind_suggested_by_the_booked_service():
    assert encounters.kind_for_service("botulinum-toxin-clinic") == EncounterKind.TOXIN_CLINIC
    assert encounters.kind_for_service("dbs-programming") == EncounterKind.DBS_PROGRAMMING
    assert encounters.kind_for_service("speech-therapy") == EncounterKind.THERAPY
    assert encounters.kind_for_service("follow-up") == EncounterKind.FOLLOW_UP
    assert encounters.kind_for_service("emg") == EncounterKind.EMG
    assert encounters.kind_for_service("new-consultation") == EncounterKind.CONSULTATION


def test_the_patients_date_of_birth_bound_uses_the_clinic_day(clinic):
    patient = clinic["patient"]
    patient.date_of_birth = date(2000, 6, 1)
    patient.save()
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (summer time): the day of birth.
    on_the_day = datetime(2000, 5, 31, 23, 30, tzinfo=UTC)

    encounter = _start(clinic, appointment=None, site=clinic["site"], started_at=on_the_day)

    assert encounter.started_at == on_the_day


def test_an_encounter_page_uses_the_same_queries_for_1_and_10_addenda(client, clinic):
    signed = _signed(clinic)
    sign_in(client, clinic["clinician"])
    url = f"/records/encounters/{signed.pk}/"
    client.get(url)  # the session's first request loads what it caches
    counts = []
    for total in (1, 10):
        while signed.addenda.count() < total:
            author = factories.user(role=Role.CLINICIAN)
            encounters.addendum_add(
                context=context_of(author), encounter_id=signed.pk, text="More."
            )
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        counts.append(len(queries))
        assert page.content.decode().count("More.") == total

    assert counts[0] == counts[1]


def test_a_non_ascii_digit_in_the_appointment_parameter_is_404(client, clinic):
    sign_in(client, clinic["clinician"])
    url = f"/records/patients/{clinic['patient'].pk}/encounters/new/?appointment=%C2%B2"
    assert client.get(url).status_code == 404


def test_a_seen_appointment_can_no_longer_be_moved_or_cancelled(clinic, staff):
    _start(clinic)
    reception = context_of(staff[Role.RECEPTION])
    appointment = clinic["appointment"]
    with pytest.raises(scheduling_services.BookingRefused, match="has been seen"):
        scheduling_services.appointment_cancel(
            context=reception, appointment_id=appointment.pk, reason="Mistake"
        )
    with pytest.raises(scheduling_services.BookingRefused, match="has been seen"):
        scheduling_services.appointment_reschedule(
            context=reception,
            appointment_id=appointment.pk,
            start=appointment.start + timedelta(days=21),
        )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.start == clinic["appointment"].start


def test_a_colleagues_notes_are_shown_back_when_the_encounter_was_already_started(client, clinic):
    _start(clinic)
    colleague = factories.user(role=Role.CLINICIAN)
    sign_in(client, colleague)
    url = (
        f"/records/patients/{clinic['patient'].pk}/encounters/new/"
        f"?appointment={clinic['appointment'].pk}"
    )
    answer = client.post(url, {"kind": "toxin_clinic", "notes": "Careful notes of my own"})
    assert answer.status_code == 409
    page = answer.content.decode()
    assert "already started by a colleague" in page
    assert "Careful notes of my own" in page
    assert Encounter.objects.get().notes == ""


def test_the_same_walk_in_form_sent_twice_makes_one_encounter(client, clinic):
    sign_in(client, clinic["clinician"])
    url = f"/records/patients/{clinic['patient'].pk}/encounters/new/"
    page = client.get(url).content.decode()
    submission = re.search(r'name="submission" value="([^"]+)"', page).group(1)
    form = {
        "kind": "consultation",
        "site": "enc-site",
        "date": local_today().isoformat(),
        "time": "00:01",
        "notes": "Walk-in",
        "submission": submission,
    }

    first = client.post(url, form)
    second = client.post(url, form)

    assert Encounter.objects.filter(appointment=None).count() == 1
    made = Encounter.objects.get(appointment=None)
    assert first["Location"] == second["Location"] == f"/records/encounters/{made.pk}/"
    changed = client.post(url, form | {"notes": "Something else"})
    assert changed.status_code == 422
    assert Encounter.objects.filter(appointment=None).count() == 1


def test_a_refused_walk_in_form_can_be_corrected_and_sent_again(client, clinic):
    sign_in(client, clinic["clinician"])
    url = f"/records/patients/{clinic['patient'].pk}/encounters/new/"
    form = {
        "kind": "consultation",
        "site": "enc-site",
        "date": "1900-01-01",  # before the patient was born
        "time": "10:00",
        "submission": "one-form",
    }
    assert client.post(url, form).status_code == 400
    assert not Encounter.objects.filter(appointment=None).exists()
    assert (
        client.post(url, form | {"date": local_today().isoformat(), "time": "00:01"}).status_code
        == 302
    )
    assert Encounter.objects.filter(appointment=None).count() == 1


@pytest.mark.parametrize(
    "message", ["deadlock detected", "canceling statement due to lock timeout"]
)
def test_a_lock_error_while_saving_notes_is_409_busy_keeps_the_text_and_is_audited(
    client, clinic, monkeypatch, message
):
    """Someone else holding the record's rows is not a server error: the writer keeps their
    text, is told to try again, and nothing is written."""
    draft = _start(clinic)
    sign_in(client, clinic["clinician"])

    def locked_out(*args, **kwargs):
        raise OperationalError(message)

    monkeypatch.setattr(encounters, "_locked_draft", locked_out)
    refused_before = AuditEntry.objects.filter(outcome=AuditOutcome.REFUSED).count()
    response = client.post(
        f"/records/encounters/{draft.pk}/",
        {"notes": "Mine", "updated_at": draft.updated_at.isoformat()},
    )

    page = response.content.decode()
    assert response.status_code == 409
    assert escape(BUSY) in page
    assert "Mine</textarea>" in page
    assert Encounter.objects.get().notes == ""
    refused = AuditEntry.objects.filter(outcome=AuditOutcome.REFUSED)
    assert refused.count() == refused_before + 1
