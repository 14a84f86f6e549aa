"""Merging duplicate patient records: every row that points at the duplicate moves to the record
kept (a new foreign key to Patient fails here until it is handled), the audit trail stays as it
was, refusals change nothing and say why, only administrators after two-factor, and two merges
of one pair at once cannot both succeed."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import count

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction, AuditEntry, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from clinic.enquiries.models import Enquiry
from clinic.records import merge
from clinic.records.access import AccessRefused, access_merge_patients
from clinic.records.merge import MergeRefused, patient_relations, relation_key, rows_of
from clinic.records.merge_forms import SAME_PERSON_REQUIRED
from clinic.records.merge_selectors import DIFFERENT, merge_comparison, merge_find
from clinic.records.merge_views import BAD_LINK
from clinic.records.models import (
    Diagnosis,
    DrugExposure,
    Encounter,
    FamilyMember,
    Investigation,
    Letter,
    NextOfKin,
    Patient,
    PatientAlert,
)
from clinic.scheduling.models import Message, OpenFollowUp, Recall, WaitlistEntry
from clinic.treatment.models import DbsSystem, Medication, Procedure, TherapyReferral
from tests import factories
from tests.clinic.records.test_encounters import appointment_for, context_of, today_at
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
NHS_A, NHS_B = "9434765919", "9434765927"
_unique = count(1)


@pytest.fixture
def unit(db, staff):
    """The places, people and an administrator a merge needs."""
    site = factories.site()
    service = factories.service()
    practitioner = factories.practitioner(sites=[site], services=[service])
    clinician = factories.user(role=Role.CLINICIAN, practitioner=practitioner)
    return {
        "site": site,
        "service": service,
        "practitioner": practitioner,
        "clinician": clinician,
        "reception": staff[Role.RECEPTION],
        "admin": staff[Role.ADMIN],
    }


def _encounter(unit, patient):
    return Encounter.objects.create(
        patient=patient,
        kind="consultation",
        clinician=unit["clinician"],
        site=unit["site"],
        started_at=timezone.now() - timedelta(days=1),
        notes="Secret clinical notes about torticollis.",
    )


def _appointment(unit, patient):
    # A different day per row, so no two overlap (PostgreSQL's exclusion constraint).
    return appointment_for(
        patient=patient,
        practitioner=unit["practitioner"],
        site=unit["site"],
        service=unit["service"],
        start=today_at(9, days=next(_unique)),
        booked_by=unit["reception"],
    )


def _message(unit, patient):
    n = next(_unique)
    return Message.objects.create(
        patient=patient,
        kind="confirmation",
        dedupe_key=f"merge-test-{n}",
        subject="Your appointment",
        body="Made up.",
        due_at=timezone.now(),
    )


def _audit_entry(unit, patient):
    return audit_record(
        context=AuditContext(actor=unit["clinician"]),
        action=AuditAction.READ,
        outcome=AuditOutcome.ALLOWED,
        object_type="patient",
        object_id=patient.pk,
        patient=patient,
        detail="read before the merge",
    )


TODAY = date(2026, 1, 5)

# One row of every model that points at Patient, by merge.relation_key.
BUILDERS = {
    "records.Patient.merged_into": lambda unit, p: factories.patient(
        merged_into=p, merged_at=timezone.now()
    ),
    "records.NextOfKin.patient": lambda unit, p: NextOfKin.objects.create(
        patient=p, name="Sam Kin", relationship="Sister"
    ),
    "records.PatientAlert.patient": lambda unit, p: PatientAlert.objects.create(
        patient=p, kind="needs_hoist", recorded_by=unit["reception"]
    ),
    "records.Encounter.patient": _encounter,
    "records.DrugExposure.patient": lambda unit, p: DrugExposure.objects.create(
        patient=p, drug="Haloperidol", recorded_by=unit["clinician"]
    ),
    "records.FamilyMember.patient": lambda unit, p: FamilyMember.objects.create(
        patient=p, relationship="mother", condition="Tremor", recorded_by=unit["clinician"]
    ),
    "records.Diagnosis.patient": lambda unit, p: Diagnosis.objects.create(
        patient=p,
        kind="dystonia",
        label="Cervical dystonia secret label",
        diagnosed_on=TODAY,
        recorded_by=unit["clinician"],
    ),
    "records.Letter.patient": lambda unit, p: Letter.objects.create(
        encounter=_encounter(unit, p), patient=p, author=unit["clinician"]
    ),
    "records.Investigation.patient": lambda unit, p: Investigation.objects.create(
        patient=p, kind="caeruloplasmin", ordered_on=TODAY, ordered_by=unit["clinician"]
    ),
    "treatment.Medication.patient": lambda unit, p: Medication.objects.create(
        patient=p, drug="Trihexyphenidyl", started_on=TODAY, prescribed_by=unit["clinician"]
    ),
    "treatment.TherapyReferral.patient": lambda unit, p: TherapyReferral.objects.create(
        patient=p, discipline="physiotherapy", referred_on=TODAY, referred_by=unit["clinician"]
    ),
    "treatment.Procedure.patient": lambda unit, p: Procedure.objects.create(
        patient=p,
        kind="selective_peripheral_denervation",
        performed_on=TODAY,
        recorded_by=unit["clinician"],
    ),
    "treatment.DbsSystem.patient": lambda unit, p: DbsSystem.objects.create(
        patient=p,
        target="gpi",
        implanted_on=TODAY,
        generator="other",
        generator_model="Activa PC",
        rechargeable=False,
        recorded_by=unit["clinician"],
    ),
    "enquiries.Enquiry.patient": lambda unit, p: Enquiry.objects.create(
        kind="query",
        sender_name="Sam",
        sender_email="sam@example.org",
        message="A question.",
        patient=p,
    ),
    "scheduling.Appointment.patient": _appointment,
    "scheduling.Message.patient": _message,
    "scheduling.WaitlistEntry.patient": lambda unit, p: WaitlistEntry.objects.create(
        patient=p,
        service=unit["service"],
        earliest_date=TODAY,
        latest_date=TODAY + timedelta(days=30),
        created_by=unit["reception"],
    ),
    "scheduling.Recall.patient": lambda unit, p: Recall.objects.create(
        patient=p, service=unit["service"], due_by=TODAY, created_by=unit["reception"]
    ),
    "scheduling.OpenFollowUp.patient": lambda unit, p: OpenFollowUp.objects.create(
        patient=p,
        service=unit["service"],
        earliest_date=TODAY,
        ends_on=TODAY + timedelta(days=90),
        created_by=unit["clinician"],
    ),
    "audit.AuditEntry.patient": _audit_entry,
}


def _relations():
    return {relation_key(relation): relation for relation in patient_relations()}


def _counts(patient):
    return {key: rows_of(relation, patient).count() for key, relation in _relations().items()}


def _merge(unit, keep, duplicate, reason="Registered twice at reception.", **options):
    return merge.merge_patients(
        context_of(unit["admin"]),
        keep_id=keep.pk,
        duplicate_id=duplicate.pk,
        reason=reason,
        **options,
    )


def _refused(unit, keep, duplicate, **options):
    """Merge expecting a refusal; check that nothing changed and the refusal is audited."""
    before = (_counts(keep), _counts(duplicate))
    states = list(Patient.objects.order_by("pk").values())
    entries = AuditEntry.objects.count()
    with pytest.raises(MergeRefused) as refused:
        _merge(unit, keep, duplicate, **options)
    assert list(Patient.objects.order_by("pk").values()) == states
    audit_rows = {"audit.AuditEntry.patient"}
    after = (_counts(keep), _counts(duplicate))
    for was, now in zip(before, after, strict=True):
        assert {k: v for k, v in was.items() if k not in audit_rows} == {
            k: v for k, v in now.items() if k not in audit_rows
        }
    new = AuditEntry.objects.order_by("pk")[entries:]
    assert new
    assert all(entry.outcome == AuditOutcome.REFUSED for entry in new)
    assert all(refused.value.message[:60] in entry.detail for entry in new)
    return refused.value


# --- Every relation is handled --------------------------------------------------------------


def test_every_foreign_key_to_patient_is_listed_as_moved_or_kept_and_built_here():
    """Adding a model that points at Patient fails here until merge.MOVED or KEPT_IN_PLACE
    lists it (check its unique constraints) and BUILDERS above makes one."""
    keys = set(_relations())

    assert keys == merge.MOVED | merge.KEPT_IN_PLACE
    assert keys == set(BUILDERS)
    assert not merge.MOVED & merge.KEPT_IN_PLACE


def test_hidden_relations_are_found_too():
    # The audit trail's foreign key has related_name="+", which related_objects leaves out.
    assert "audit.AuditEntry.patient" in _relations()


def test_no_moved_table_has_a_unique_constraint_on_the_patient_today():
    """A new one is checked for collisions generically (a merge that would break it is
    refused, as the next test shows); this test makes whoever adds it look at the case."""
    assert not {key for key, rel in _relations().items() if merge.unique_field_sets(rel)}


def test_a_unique_constraint_that_would_collide_refuses_the_merge(unit, monkeypatch):
    keep, duplicate = factories.patient(), factories.patient()
    NextOfKin.objects.create(patient=keep, name="Sam Kin", relationship="Sister")
    NextOfKin.objects.create(patient=duplicate, name="Sam Kin", relationship="Brother")
    # As if NextOfKin had UniqueConstraint(fields=("patient", "name")).
    real = merge.unique_field_sets
    monkeypatch.setattr(
        merge,
        "unique_field_sets",
        lambda rel: [("patient", "name")] if rel.related_model is NextOfKin else real(rel),
    )

    refusal = _refused(unit, keep, duplicate)

    assert refusal.message == merge.CANNOT_COMBINE.format(what="a next of kin")
    assert refusal.status == 409


def test_an_unlisted_relation_refuses_the_merge(unit, monkeypatch):
    keep, duplicate = factories.patient(), factories.patient()
    monkeypatch.setattr(merge, "MOVED", merge.MOVED - {"records.NextOfKin.patient"})

    refusal = _refused(unit, keep, duplicate)

    assert refusal.message == merge.NOT_SET_UP.format(what="records.NextOfKin.patient")


# --- What a merge does ------------------------------------------------------------------------


def test_every_related_row_moves_to_the_kept_record(unit):
    keep, duplicate = factories.patient(), factories.patient()
    made = {key: build(unit, duplicate) for key, build in BUILDERS.items()}
    for build in BUILDERS.values():
        build(unit, keep)
    before_keep, before_duplicate = _counts(keep), _counts(duplicate)

    kept = _merge(unit, keep, duplicate)

    assert kept.pk == keep.pk
    after_keep, after_duplicate = _counts(keep), _counts(duplicate)
    # The duplicate itself is now one of the records merged into the kept one.
    itself = {"records.Patient.merged_into": 1}
    for key in merge.MOVED:
        assert after_duplicate[key] == 0, key
        assert after_keep[key] == before_keep[key] + before_duplicate[key] + itself.get(key, 0)
        row = type(made[key])._base_manager.get(pk=made[key].pk)
        assert getattr(row, _relations()[key].field.attname) == keep.pk, key
    duplicate.refresh_from_db()
    assert duplicate.merged_into == keep
    assert duplicate.merged_by == unit["admin"]
    assert duplicate.merged_at is not None
    assert duplicate.is_merged


def test_the_duplicates_audit_trail_stays_as_it_was(unit):
    keep, duplicate = factories.patient(), factories.patient()
    old = [_audit_entry(unit, duplicate) for _ in range(3)]
    snapshot = list(AuditEntry.objects.filter(pk__in=[e.pk for e in old]).values())

    _merge(unit, keep, duplicate, reason="Same person, typo in the surname.")

    assert list(AuditEntry.objects.filter(pk__in=[e.pk for e in old]).values()) == snapshot
    merged = AuditEntry.objects.filter(action="update", outcome="allowed").order_by("pk")
    assert [(e.patient_id, e.actor_role) for e in merged] == [
        (duplicate.pk, Role.ADMIN),
        (keep.pk, Role.ADMIN),
    ]
    assert all("Same person, typo in the surname." in e.detail for e in merged)
    assert keep.hospital_number in merged[0].detail
    assert duplicate.hospital_number in merged[1].detail


def test_empty_details_of_the_kept_record_are_filled_and_filled_ones_never_changed(unit):
    keep = factories.patient(email="kept@example.org", postcode="N1 1AA")
    duplicate = factories.patient(
        email="old@example.org",
        phone="020 7946 0000",
        address="1 Old Road",
        postcode="E1 1AA",
        nhs_number=NHS_A,
        gp_name="Dr Green",
        gp_practice="Green Practice",
    )

    _merge(unit, keep, duplicate)

    keep.refresh_from_db()
    duplicate.refresh_from_db()
    assert keep.email == "kept@example.org"
    assert keep.phone == "020 7946 0000"
    # The address goes with its postcode: the kept record had a postcode, so neither is copied.
    assert (keep.address, keep.postcode) == ("", "N1 1AA")
    assert (keep.gp_name, keep.gp_practice) == ("Dr Green", "Green Practice")
    # The NHS number is unique: it moves.
    assert keep.nhs_number == NHS_A
    assert duplicate.nhs_number is None
    # The duplicate's hospital number stays with it (the audit search finds it by that).
    assert Patient.objects.get(pk=duplicate.pk).hospital_number == duplicate.hospital_number


def test_the_duplicates_sign_in_moves_when_the_kept_record_has_none(unit):
    user = factories.user(role=Role.PATIENT)
    keep, duplicate = factories.patient(), factories.patient(user=user)

    _merge(unit, keep, duplicate)

    assert Patient.objects.get(user=user) == keep


def test_both_with_an_active_sign_in_is_refused_naming_both(unit):
    first, second = factories.user(role=Role.PATIENT), factories.user(role=Role.PATIENT)
    keep, duplicate = factories.patient(user=first), factories.patient(user=second)

    refusal = _refused(unit, keep, duplicate)

    assert first.email in refusal.message
    assert second.email in refusal.message
    assert keep.hospital_number in refusal.message
    assert "close one of the two accounts first" in refusal.message


def test_a_closed_sign_in_stays_on_the_duplicate_and_the_active_one_is_kept(unit):
    closed = factories.user(role=Role.PATIENT, is_active=False)
    active = factories.user(role=Role.PATIENT)
    keep, duplicate = factories.patient(user=closed), factories.patient(user=active)

    _merge(unit, keep, duplicate)

    assert Patient.objects.get(user=active) == keep
    assert Patient.objects.get(user=closed) == duplicate


def test_records_merged_into_the_duplicate_earlier_now_point_at_the_kept_record(unit):
    a, b, c = factories.patient(), factories.patient(), factories.patient()
    _merge(unit, b, a)

    _merge(unit, c, b)

    assert Patient.objects.get(pk=a.pk).merged_into_id == c.pk
    assert Patient.objects.get(pk=b.pk).merged_into_id == c.pk


def test_different_birth_dates_need_the_confirmation(unit):
    keep = factories.patient(date_of_birth=date(1980, 3, 4))
    duplicate = factories.patient(date_of_birth=date(1980, 4, 3))

    refusal = _refused(unit, keep, duplicate)

    assert refusal.field == "birth_dates_checked"
    assert "4 March 1980" in refusal.message
    assert "3 April 1980" in refusal.message
    _merge(unit, keep, duplicate, birth_dates_checked=True)
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id == keep.pk


# --- Refusals -----------------------------------------------------------------------------


def test_the_same_record_twice_is_refused(unit):
    patient = factories.patient()

    refusal = _refused(unit, patient, patient)

    assert refusal.message == merge.SAME_RECORD


@pytest.mark.parametrize("which", ["duplicate", "keep"])
def test_an_already_merged_record_is_refused_naming_it(unit, which):
    keep, duplicate, elsewhere = factories.patient(), factories.patient(), factories.patient()
    merged = duplicate if which == "duplicate" else keep
    _merge(unit, elsewhere, merged)

    refusal = _refused(unit, keep, duplicate)

    assert refusal.status == 409
    assert f"Record {merged.hospital_number} was already merged" in refusal.message
    assert elsewhere.hospital_number in refusal.message


def test_an_unknown_record_is_404(unit):
    keep = factories.patient()

    with pytest.raises(MergeRefused) as refused:
        merge.merge_patients(
            context_of(unit["admin"]), keep_id=keep.pk, duplicate_id=999_999, reason="Twice."
        )

    assert refused.value.status == 404
    assert AuditEntry.objects.filter(patient=keep, outcome="refused").exists()


def test_different_nhs_numbers_are_different_people(unit):
    keep = factories.patient(nhs_number=NHS_A)
    duplicate = factories.patient(nhs_number=NHS_B)

    refusal = _refused(unit, keep, duplicate)

    assert "these are different people" in refusal.message
    assert "943 476 5919" in refusal.message


def test_overlapping_booked_appointments_are_refused(unit):
    keep, duplicate = factories.patient(), factories.patient()
    start = today_at(10, days=3)
    for patient in (keep, duplicate):
        appointment_for(
            patient=patient,
            practitioner=factories.practitioner(),
            site=unit["site"],
            service=unit["service"],
            start=start,
            booked_by=unit["reception"],
        )

    refusal = _refused(unit, keep, duplicate)

    assert refusal.message.startswith("Both records have an appointment booked at")


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", merge.REASON_REQUIRED),
        ("   \n ", merge.REASON_REQUIRED),
        ("x" * (merge.REASON_MAX_LENGTH + 1), merge.REASON_TOO_LONG),
        ("Same\x00person", merge.NUL_CHARACTER),
    ],
)
def test_a_bad_reason_is_refused(unit, reason, message):
    keep, duplicate = factories.patient(), factories.patient()

    refusal = _refused(unit, keep, duplicate, reason=reason)

    assert refusal.message == message
    assert refusal.field == "reason"


# --- Concurrency: the re-check after the locks ----------------------------------------------


def test_a_to_b_then_b_to_a_the_second_is_refused(unit):
    a, b = factories.patient(), factories.patient()
    _merge(unit, b, a)

    refusal = _refused(unit, a, b)

    assert f"Record {a.hospital_number} was already merged into record {b.hospital_number}" in (
        refusal.message
    )
    assert Patient.objects.get(pk=b.pk).merged_into_id is None


def test_the_checks_run_on_the_rows_read_after_the_locks(unit, monkeypatch):
    """A merge committed between the comparison and this merge's lock is seen: the state is
    read under the lock, not taken from before it."""
    a, b = factories.patient(), factories.patient()
    real_lock = merge._lock

    def lock_after_a_concurrent_merge(keep_id, duplicate_id):
        # The other administrator's merge of B into A commits while this one waits.
        Patient.objects.filter(pk=b.pk).update(merged_into=a, merged_at=timezone.now())
        return real_lock(keep_id, duplicate_id)

    monkeypatch.setattr(merge, "_lock", lock_after_a_concurrent_merge)

    with pytest.raises(MergeRefused) as refused:
        _merge(unit, b, a)

    assert "already merged" in refused.value.message
    assert Patient.objects.get(pk=a.pk).merged_into_id is None


def test_both_rows_are_locked_in_id_order_whichever_is_kept(unit):
    low, high = factories.patient(), factories.patient()
    table = Patient._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        merge._lock(high.pk, low.pk)

    locked = [
        int(match.group(1))
        for query in queries.captured_queries
        if (match := re.search(rf'FROM "{table}" WHERE "{table}"."id" = (\d+)', query["sql"]))
    ]
    assert locked == [low.pk, high.pk]


# --- Property ---------------------------------------------------------------------------------

CHEAP = (
    "records.NextOfKin.patient",
    "records.PatientAlert.patient",
    "records.DrugExposure.patient",
    "scheduling.Recall.patient",
    "scheduling.Message.patient",
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(st.tuples(st.sampled_from(CHEAP), st.booleans()), max_size=12))
def test_after_a_merge_the_kept_record_holds_the_rows_of_both(unit, rows):
    keep, duplicate = factories.patient(), factories.patient()
    for key, on_duplicate in rows:
        BUILDERS[key](unit, duplicate if on_duplicate else keep)
    before = {key: _counts(keep)[key] + _counts(duplicate)[key] for key in merge.MOVED}
    before["records.Patient.merged_into"] += 1  # the duplicate itself

    _merge(unit, keep, duplicate)

    after_keep, after_duplicate = _counts(keep), _counts(duplicate)
    assert {key: after_keep[key] for key in merge.MOVED} == before
    assert all(after_duplicate[key] == 0 for key in merge.MOVED)


# --- Who may merge --------------------------------------------------------------------------


def _verified(user):
    user.is_verified = lambda: True
    return user


def test_access_merge_patients_is_for_administrators_after_two_factor(staff, patient_user):
    admin = staff[Role.ADMIN]

    assert access_merge_patients(_verified(admin))
    assert not access_merge_patients(staff[Role.ADMIN].__class__.objects.get(pk=admin.pk))
    assert not access_merge_patients(_verified(staff[Role.RECEPTION]))
    assert not access_merge_patients(_verified(staff[Role.CLINICIAN]))
    assert not access_merge_patients(_verified(patient_user))
    assert not access_merge_patients(None)
    admin.is_active = False
    assert not access_merge_patients(admin)


def test_access_merge_patients_refuses_anonymous():
    assert not access_merge_patients(AnonymousUser())


@pytest.mark.parametrize(
    ("role", "reveal"), [(Role.RECEPTION, True), (Role.CLINICIAN, True), (Role.PATIENT, False)]
)
def test_the_service_refuses_everyone_but_administrators(unit, role, reveal):
    keep, duplicate = factories.patient(), factories.patient()

    with pytest.raises(AccessRefused) as refused:
        merge.merge_patients(
            context_of(factories.user(role=role)),
            keep_id=keep.pk,
            duplicate_id=duplicate.pk,
            reason="Twice.",
        )

    assert refused.value.reveal is reveal
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id is None
    refusals = AuditEntry.objects.filter(outcome="refused", action="update")
    assert {entry.patient_id for entry in refusals} == {keep.pk, duplicate.pk}


# --- Pages --------------------------------------------------------------------------------------


def _compare_url(keep, duplicate):
    return f"/records/merge/compare/?keep={keep.pk}&duplicate={duplicate.pk}"


@pytest.mark.parametrize(("role", "status"), [(Role.RECEPTION, 403), (Role.CLINICIAN, 403)])
def test_staff_other_than_administrators_get_403(client, unit, role, status):
    keep, duplicate = factories.patient(), factories.patient()
    sign_in(client, factories.user(role=role))

    assert client.get("/records/merge/").status_code == status
    assert client.get(_compare_url(keep, duplicate)).status_code == status
    response = client.post(_compare_url(keep, duplicate), {"reason": "x", "same_person": "on"})
    assert response.status_code == status
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id is None
    assert AuditEntry.objects.filter(patient=keep, outcome="refused").count() == 2


def test_a_patient_gets_404(client, patient_user, other_patient):
    sign_in(client, patient_user, second_factor=False)
    mine = patient_user.patient_record

    assert client.get("/records/merge/").status_code == 404
    assert client.get(_compare_url(mine, other_patient)).status_code == 404
    response = client.post(_compare_url(mine, other_patient), {"reason": "x", "same_person": "on"})
    assert response.status_code == 404
    assert Patient.objects.get(pk=other_patient.pk).merged_into_id is None


def test_an_administrator_without_two_factor_is_sent_to_it(client, staff):
    sign_in(client, staff[Role.ADMIN], second_factor=False)

    response = client.get("/records/merge/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/two-factor/")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/records/merge/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/sign-in/")


def test_administrators_see_the_link_where_they_land(client, staff):
    sign_in(client, staff[Role.ADMIN])

    assert 'href="/records/merge/"' in client.get("/audit/").content.decode()


def test_choose_by_hospital_numbers_then_compare(client, unit):
    keep = factories.patient(hospital_number="H0000001")
    duplicate = factories.patient(hospital_number="H0000002")
    sign_in(client, unit["admin"])

    assert client.get("/records/merge/").status_code == 200
    response = client.post(
        "/records/merge/", {"keep_number": "h0000001 ", "duplicate_number": "H0000002"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == _compare_url(keep, duplicate)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"keep_number": "NOPE", "duplicate_number": "H0000002"}, "No patient has hospital"),
        ({"keep_number": "H0000002", "duplicate_number": "H0000002"}, "the same record"),
        ({"keep_number": "", "duplicate_number": "H0000002"}, merge.NUMBER_REQUIRED),
        ({"keep_number": "x" * 500, "duplicate_number": "H0000002"}, "at most 20"),
        ({"keep_number": "H\x000", "duplicate_number": "H0000002"}, "NUL"),
        ({"keep_number": SCRIPT, "duplicate_number": "H0000002"}, "at most 20"),
    ],
)
def test_choose_refuses_bad_hospital_numbers(client, unit, data, message):
    factories.patient(hospital_number="H0000002")
    sign_in(client, unit["admin"])

    response = client.post("/records/merge/", data)

    assert response.status_code == 400
    page = response.content.decode()
    assert escape(message) in page or message in page
    assert SCRIPT not in page


def test_the_comparison_shows_identifiers_and_counts_never_clinical_content(client, unit):
    keep = factories.patient(given_name="Ann", family_name="Lee", phone="020 1")
    duplicate = factories.patient(given_name="ann", family_name="LEE", phone="020 2")
    for build in BUILDERS.values():
        build(unit, duplicate)
    sign_in(client, unit["admin"])

    response = client.get(_compare_url(keep, duplicate))

    page = response.content.decode()
    assert response.status_code == 200
    assert keep.hospital_number in page
    assert duplicate.hospital_number in page
    assert "<strong>Different</strong>" in page  # the phones: said in words, not only colour
    assert "merge-differs" in page
    assert "Secret clinical notes" not in page
    assert "secret label" not in page
    assert "Haloperidol" not in page
    assert "Encounters" in page
    reads = AuditEntry.objects.filter(action="read", outcome="allowed", actor=unit["admin"])
    assert {entry.patient_id for entry in reads} == {keep.pk, duplicate.pk}


def test_the_comparison_compares_names_without_case(unit):
    keep = factories.patient(given_name="Ann", family_name="O'Lee")
    duplicate = factories.patient(given_name="ann", family_name="olee", phone="1")

    comparison = merge_comparison(
        context_of(unit["admin"]), keep_id=keep.pk, duplicate_id=duplicate.pk
    )

    by_label = {detail.label: detail for detail in comparison.details}
    assert not by_label["Name"].differs
    assert by_label["Phone"].comparison.startswith("Only on the duplicate: will be copied")
    assert by_label["Hospital number"].comparison == DIFFERENT
    assert comparison.problems == []


def test_merge_find_needs_an_administrator(unit):
    with pytest.raises(AccessRefused):
        merge_find(context_of(unit["reception"]), keep_number="A", duplicate_number="B")


@pytest.mark.parametrize(
    "query",
    ["keep=abc&duplicate=1", "keep=1", "keep=1&duplicate=%C2%B2", "keep=1&duplicate=" + "9" * 40],
)
def test_bad_ids_in_the_comparison_link_answer_400(client, unit, query):
    sign_in(client, unit["admin"])

    response = client.get(f"/records/merge/compare/?{query}")

    assert response.status_code == 400
    assert escape(BAD_LINK) in response.content.decode()


def test_unknown_ids_answer_404_and_the_same_twice_400(client, unit):
    patient = factories.patient()
    sign_in(client, unit["admin"])

    assert client.get(
        f"/records/merge/compare/?keep={patient.pk}&duplicate=999999"
    ).status_code == (404)
    assert client.get(_compare_url(patient, patient)).status_code == 400


def test_merging_through_the_pages(client, unit):
    keep, duplicate = factories.patient(), factories.patient()
    BUILDERS["scheduling.Appointment.patient"](unit, duplicate)
    sign_in(client, unit["admin"])

    response = client.post(
        _compare_url(keep, duplicate), {"reason": "Registered twice.", "same_person": "on"}
    )

    assert response.status_code == 302
    done = client.get(response.headers["Location"])
    assert done.status_code == 200
    assert f"Record {duplicate.hospital_number} merged into record" in done.content.decode()
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id == keep.pk
    assert keep.appointments.count() == 1


def test_the_result_page_of_records_not_merged_is_404(client, unit):
    keep, duplicate = factories.patient(), factories.patient()
    sign_in(client, unit["admin"])

    assert client.get(_compare_url(keep, duplicate).replace("compare", "done")).status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": SCRIPT}, SAME_PERSON_REQUIRED),
        ({"reason": "", "same_person": "on"}, merge.REASON_REQUIRED),
        ({"reason": "y" * 5000, "same_person": "on"}, merge.REASON_TOO_LONG),
        ({"reason": "a\x00b", "same_person": "on"}, merge.NUL_CHARACTER),
    ],
)
def test_the_merge_form_refuses_bad_input_and_escapes_it(client, unit, data, message):
    keep, duplicate = factories.patient(), factories.patient()
    sign_in(client, unit["admin"])

    response = client.post(_compare_url(keep, duplicate), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert escape(message) in page
    assert SCRIPT not in page
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id is None


def test_different_birth_dates_ask_for_the_box_on_the_page(client, unit):
    keep = factories.patient(date_of_birth=date(1980, 3, 4))
    duplicate = factories.patient(date_of_birth=date(1980, 4, 3))
    sign_in(client, unit["admin"])
    assert "birth_dates_checked" in client.get(_compare_url(keep, duplicate)).content.decode()

    response = client.post(_compare_url(keep, duplicate), {"reason": "Typo", "same_person": "on"})

    assert response.status_code == 400
    assert "The dates of birth differ" in response.content.decode()
    response = client.post(
        _compare_url(keep, duplicate),
        {"reason": "Typo", "same_person": "on", "birth_dates_checked": "on"},
    )
    assert response.status_code == 302


def test_a_merge_done_meanwhile_by_someone_else_is_refused_on_submit(client, unit):
    """Two administrators compare A and B; one merges B into A, the other then submits A into
    B: refused with 409 and the reason, nothing changed."""
    a, b = factories.patient(), factories.patient()
    sign_in(client, unit["admin"])
    assert client.get(_compare_url(b, a)).status_code == 200
    _merge(unit, a, b)

    response = client.post(_compare_url(b, a), {"reason": "Twice.", "same_person": "on"})

    assert response.status_code == 409
    assert "was already merged" in response.content.decode()
    assert Patient.objects.get(pk=a.pk).merged_into_id is None


def test_the_merged_records_staff_page_shows_only_a_link_to_the_kept_one(client, unit):
    keep, duplicate = factories.patient(), factories.patient()
    _encounter(unit, duplicate)
    _merge(unit, keep, duplicate)
    sign_in(client, unit["clinician"])

    response = client.get(f"/records/patients/{duplicate.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "This record was merged into" in page
    assert f'href="/records/patients/{keep.pk}/"' in page
    assert "Secret clinical notes" not in page
    assert "Edit details" not in page
    kept_page = client.get(f"/records/patients/{keep.pk}/").content.decode()
    assert f"Merged into this record: {duplicate.hospital_number}" in kept_page
