"""Therapy referrals with their sessions, and procedures (selective peripheral denervation
with nerves and muscles, and others by name): any clinician records them, nobody else reads or
writes them, every access is audited with ids only, bad input names its field and writes
nothing, a merged record is refused; the same through the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from clinic.audit.models import AuditEntry
from clinic.records.access import AccessRefused
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import Patient
from clinic.scheduling.availability import local_today
from clinic.treatment import selectors, surgery, therapy
from clinic.treatment.models import Procedure, TherapyReferral, TherapySession
from clinic.treatment.rules import TreatmentRefused
from clinic.treatment.surgery import ProcedureDetails
from clinic.treatment.therapy import ReferralDetails, SessionDetails
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.clinic.treatment.conftest import last_audit_pk, new_entries
from tests.clinic.treatment.helpers import with_
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

TOMORROW = local_today() + timedelta(days=1)
PHYSIO = ReferralDetails(
    discipline="physiotherapy", referred_on=date(2023, 1, 10), goals="Head posture"
)
SPD = ProcedureDetails(
    kind="selective_peripheral_denervation",
    performed_on=date(2022, 5, 4),
    surgeon="Ms Made-up",
    side="left",
    nerves=["C1 dorsal ramus", "C2 dorsal ramus"],
    muscles=["Splenius capitis", "Semispinalis capitis"],
)


def _refer(unit, details=PHYSIO, *, user=None):
    return therapy.referral_add(
        context=context_of(user or unit["clinician"]),
        patient_id=unit["patient"].pk,
        details=details,
    )


def _session(unit, referral, details=None, *, user=None):
    return therapy.session_add(
        context=context_of(user or unit["clinician"]),
        referral_id=referral.pk,
        details=details or SessionDetails(held_on=date(2023, 2, 1), notes="Stretches"),
    )


def _procedure(unit, details=SPD, *, user=None):
    return surgery.procedure_add(
        context=context_of(user or unit["clinician"]),
        patient_id=unit["patient"].pk,
        details=details,
    )


def _refused(call) -> TreatmentRefused:
    with pytest.raises(TreatmentRefused) as refused:
        call()
    return refused.value


# Therapy


def test_a_clinician_refers_records_sessions_and_discharges(unit):
    before = last_audit_pk()
    referral = _refer(unit)
    _session(unit, referral, user=unit["colleague"])
    _session(unit, referral, SessionDetails(held_on=date(2023, 2, 8), attended=False))
    discharged = therapy.referral_update(
        context=context_of(unit["clinician"]),
        referral_id=referral.pk,
        details=with_(
            PHYSIO, status="discharged", discharged_on=date(2023, 3, 1), outcome="Better"
        ),
    )

    assert (discharged.status, discharged.discharged_on) == ("discharged", date(2023, 3, 1))
    assert [s.attended for s in therapy.sessions_of(referral)] == [False, True]
    details = list(new_entries(before).values_list("detail", flat=True))
    assert details == [
        "therapy referral added",
        "therapy session added",
        "therapy session added",
        "therapy referral changed: status, discharged_on, outcome",
    ]
    [listed] = selectors.referrals_of(unit["patient"])
    assert (listed.session_count, listed.last_session) == (2, date(2023, 2, 8))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"discipline": "music"}, "discipline", "Therapy: choose from the list."),
        ({"referred_on": TOMORROW}, "referred_on", "The referral date cannot be in the future."),
        ({"referred_on": None}, "referred_on", None),
        ({"referred_on": "2023-01-10"}, "referred_on", None),
        ({"status": "discharged"}, "discharged_on", therapy.DISCHARGE_DAY_REQUIRED),
        (
            {"discharged_on": date(2023, 2, 1)},
            "discharged_on",
            therapy.DISCHARGE_DAY_ONLY_WHEN_DISCHARGED,
        ),
        (
            {"status": "discharged", "discharged_on": date(2023, 1, 9)},
            "discharged_on",
            therapy.DISCHARGED_BEFORE_REFERRAL,
        ),
        ({"status": "paused"}, "status", None),
        ({"goals": "x" * 2001}, "goals", "Goals can be at most 2,000 characters."),
        ({"reason": "\x00"}, "reason", NUL_CHARACTER),
        ({"outcome": 3}, "outcome", "Enter text."),
        ({"encounter": 999_999}, "encounter", None),
    ],
)
def test_a_bad_referral_is_refused_and_nothing_written(unit, changes, field, message):
    before = last_audit_pk()

    refused = _refused(lambda: _refer(unit, with_(PHYSIO, **changes)))

    assert refused.field == field
    if message:
        assert refused.message == message
    assert not TherapyReferral.objects.exists()
    assert new_entries(before).get().outcome == "refused"


@pytest.mark.parametrize(
    ("details", "field", "message"),
    [
        (SessionDetails(held_on=date(2023, 1, 9)), "held_on", therapy.SESSION_BEFORE_REFERRAL),
        (SessionDetails(held_on=TOMORROW), "held_on", None),
        (SessionDetails(held_on=None), "held_on", None),
        (SessionDetails(held_on=date(2023, 2, 1), attended="yes"), "attended", None),
        (SessionDetails(held_on=date(2023, 2, 1), notes="x" * 5001), "notes", None),
    ],
)
def test_a_bad_session_is_refused_and_nothing_written(unit, details, field, message):
    referral = _refer(unit)

    refused = _refused(lambda: _session(unit, referral, details))

    assert refused.field == field
    if message:
        assert refused.message == message
    assert not TherapySession.objects.exists()


def test_sessions_stay_within_the_referral_and_none_for_a_declined_one(unit):
    referral = _refer(unit, with_(PHYSIO, status="discharged", discharged_on=date(2023, 1, 31)))
    after = _refused(lambda: _session(unit, referral))
    declined = _refer(unit, with_(PHYSIO, status="declined"))
    refused = _refused(lambda: _session(unit, declined, SessionDetails(held_on=date(2023, 1, 11))))
    open_one = _refer(unit)
    _session(unit, open_one)
    moved = _refused(
        lambda: therapy.referral_update(
            context=context_of(unit["clinician"]),
            referral_id=open_one.pk,
            details=with_(PHYSIO, referred_on=date(2023, 2, 2)),
        )
    )

    assert after.message == therapy.SESSION_AFTER_DISCHARGE
    assert (refused.message, refused.status) == (therapy.DECLINED, 409)
    assert moved.message == therapy.SESSIONS_OUTSIDE
    assert TherapySession.objects.count() == 1


# Surgery


def test_a_clinician_records_a_denervation_with_its_nerves_and_muscles(unit):
    before = last_audit_pk()

    procedure = _procedure(
        unit,
        with_(
            SPD,
            nerves=[" C1  dorsal ramus ", "", "C1 dorsal ramus", "C2 dorsal ramus"],
            name="ignored",
        ),
    )

    assert procedure.nerves == ["C1 dorsal ramus", "C2 dorsal ramus"]
    assert procedure.muscles == ["Splenius capitis", "Semispinalis capitis"]
    assert (procedure.name, procedure.title) == ("", "Selective peripheral denervation")
    assert new_entries(before).get().detail == "procedure added"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "other"}, "name", surgery.NAME_REQUIRED),
        ({"kind": "lobotomy"}, "kind", None),
        ({"performed_on": TOMORROW}, "performed_on", "The date cannot be in the future."),
        (
            {"performed_on": date(1960, 1, 1)},
            "performed_on",
            "The date cannot be before the patient's date of birth.",
        ),
        ({"side": "middle"}, "side", None),
        ({"nerves": "C1"}, "nerves", "Nerves: give a list of names."),
        ({"nerves": [1]}, "nerves", None),
        ({"muscles": ["x" * 101]}, "muscles", "Muscles: each name can be at most 100 characters."),
        ({"muscles": [f"Muscle {n}" for n in range(21)]}, "muscles", "Muscles: at most 20 names."),
        ({"muscles": ["a\x00"]}, "muscles", NUL_CHARACTER),
        ({"surgeon": "x" * 201}, "surgeon", None),
        ({"complications": "x" * 5001}, "complications", None),
    ],
)
def test_a_bad_procedure_is_refused_and_nothing_written(unit, changes, field, message):
    refused = _refused(lambda: _procedure(unit, with_(SPD, **changes)))

    assert refused.field == field
    if message:
        assert refused.message == message
    assert not Procedure.objects.exists()


def test_another_procedure_keeps_its_name_and_changes_are_audited(unit):
    procedure = _procedure(
        unit, with_(SPD, kind="other", name="Intrathecal baclofen pump", nerves=[])
    )
    before = last_audit_pk()

    surgery.procedure_update(
        context=context_of(unit["colleague"]),
        procedure_id=procedure.pk,
        details=with_(
            SPD, kind="other", name="Intrathecal baclofen pump", nerves=[], outcome="Less spasm"
        ),
    )

    assert Procedure.objects.get().title == "Intrathecal baclofen pump"
    assert new_entries(before).get().detail == "procedure changed: outcome"
    assert "baclofen" not in " ".join(AuditEntry.objects.values_list("detail", flat=True))


# Who, merged records


@pytest.mark.parametrize("who", ["reception", "admin", "patient_user"])
def test_nobody_but_a_clinician_records_or_reads_therapy_or_surgery(unit, who):
    referral = _refer(unit)
    procedure = _procedure(unit)
    user = unit[who]
    context = context_of(user)
    before = last_audit_pk()

    with pytest.raises(AccessRefused) as refer:
        _refer(unit, user=user)
    with pytest.raises(AccessRefused) as operate:
        _procedure(unit, user=user)
    with pytest.raises(AccessRefused) as session:
        _session(unit, referral, user=user)
    with pytest.raises(AccessRefused) as read_referral:
        therapy.referral_for_clinician(context=context, referral_id=referral.pk)
    with pytest.raises(AccessRefused) as read_procedure:
        surgery.procedure_for_clinician(context=context, procedure_id=procedure.pk)

    staff = who != "patient_user"
    assert (refer.value.reveal, operate.value.reveal) == (staff, staff)
    assert not session.value.reveal
    assert not read_referral.value.reveal
    assert not read_procedure.value.reveal
    assert (TherapyReferral.objects.count(), Procedure.objects.count()) == (1, 1)
    assert not TherapySession.objects.exists()
    assert set(new_entries(before).values_list("outcome", flat=True)) == {"refused"}


def test_unknown_ids_are_not_found(unit):
    context = context_of(unit["clinician"])

    with pytest.raises(therapy.ReferralNotFound):
        therapy.referral_for_clinician(context=context, referral_id=999_999)
    with pytest.raises(surgery.ProcedureNotFound):
        surgery.procedure_for_clinician(context=context, procedure_id=999_999)


def test_a_merged_record_refuses_therapy_and_surgery(unit):
    referral = _refer(unit)
    Patient.objects.filter(pk=unit["patient"].pk).update(
        merged_into=factories.patient(), merged_at=timezone.now()
    )

    refusals = [
        _refused(lambda: _refer(unit)),
        _refused(lambda: _session(unit, referral)),
        _refused(lambda: _procedure(unit)),
    ]

    assert {r.status for r in refusals} == {409}
    assert TherapyReferral.objects.count() == 1
    assert not TherapySession.objects.exists()
    assert not Procedure.objects.exists()


# Through the pages


REFERRAL_FORM = {
    "discipline": "speech_and_language",
    "referred_on": "2023-01-10",
    "reason": "Spasmodic dysphonia",
    "goals": "",
    "status": "referred",
    "discharged_on": "",
    "outcome": "",
    "encounter": "",
}
PROCEDURE_FORM = {
    "kind": "selective_peripheral_denervation",
    "name": "",
    "performed_on": "2022-05-04",
    "surgeon": "",
    "hospital": "",
    "side": "right",
    "nerves": "C1 dorsal ramus\r\nC2 dorsal ramus",
    "muscles": "Splenius capitis",
    "outcome": "",
    "complications": "",
    "encounter": "",
}


def test_a_clinician_records_therapy_and_surgery_through_the_pages(client, unit):
    patient = unit["patient"]
    sign_in(client, unit["clinician"])
    page_url = f"/records/patients/{patient.pk}/treatment/"

    page = client.get(page_url).content.decode()
    assert "No therapy referral recorded." in page
    assert "No procedure recorded." in page

    referred = client.post(f"{page_url}therapy/new/", REFERRAL_FORM)
    referral = TherapyReferral.objects.get()
    assert referred["Location"] == f"/records/therapy-referrals/{referral.pk}/"
    assert (
        client.post(
            f"/records/therapy-referrals/{referral.pk}/sessions/new/",
            {
                "held_on": "2023-02-01",
                "attended": "yes",
                "notes": "Voice exercises",
                "progress": "",
            },
        ).status_code
        == 302
    )
    detail = client.get(referred["Location"]).content.decode()
    assert "Voice exercises" in detail

    operated = client.post(f"{page_url}procedures/new/", PROCEDURE_FORM)
    procedure = Procedure.objects.get()
    assert procedure.nerves == ["C1 dorsal ramus", "C2 dorsal ramus"]
    assert "C2 dorsal ramus" in client.get(operated["Location"]).content.decode()

    page = client.get(page_url).content.decode()
    assert "Speech and language therapy" in page
    assert "Selective peripheral denervation</span></a> (right)" in page


def test_bad_input_on_the_pages_is_shown_and_nothing_written(client, unit):
    sign_in(client, unit["clinician"])
    base = f"/records/patients/{unit['patient'].pk}/treatment/"

    for url, data, message in [
        (
            f"{base}therapy/new/",
            REFERRAL_FORM | {"status": "discharged"},
            therapy.DISCHARGE_DAY_REQUIRED,
        ),
        (f"{base}therapy/new/", REFERRAL_FORM | {"referred_on": "tomorrow"}, "Enter a real date"),
        (
            f"{base}therapy/new/",
            REFERRAL_FORM | {"discipline": "yoga"},
            "Therapy: choose from the list.",
        ),
        (f"{base}procedures/new/", PROCEDURE_FORM | {"kind": "other"}, surgery.NAME_REQUIRED),
        (
            f"{base}procedures/new/",
            PROCEDURE_FORM | {"muscles": "x" * 120},
            "each name can be at most 100",
        ),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert escape(message) in response.content.decode(), data
    assert not TherapyReferral.objects.exists()
    assert not Procedure.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("reception", 403), ("admin", 403), ("patient_user", 404)]
)
def test_the_therapy_and_surgery_pages_refuse_everyone_but_clinicians(client, unit, who, status):
    referral = _refer(unit)
    procedure = _procedure(unit)
    sign_in(client, unit[who], second_factor=who != "patient_user")
    base = f"/records/patients/{unit['patient'].pk}/treatment/"

    patient_pages = [
        client.post(f"{base}therapy/new/", REFERRAL_FORM),
        client.post(f"{base}procedures/new/", PROCEDURE_FORM),
    ]
    by_id = [
        client.get(f"/records/therapy-referrals/{referral.pk}/"),
        client.post(f"/records/therapy-referrals/{referral.pk}/edit/", REFERRAL_FORM),
        client.post(
            f"/records/therapy-referrals/{referral.pk}/sessions/new/",
            {"held_on": "2023-02-01", "attended": "yes"},
        ),
        client.get(f"/records/procedures/{procedure.pk}/"),
        client.post(f"/records/procedures/{procedure.pk}/edit/", PROCEDURE_FORM),
    ]

    assert [r.status_code for r in patient_pages] == [status] * 2
    assert [r.status_code for r in by_id] == [404] * 5
    assert (TherapyReferral.objects.count(), Procedure.objects.count()) == (1, 1)
    assert TherapyReferral.objects.get().discipline == "physiotherapy"
    assert not TherapySession.objects.exists()
