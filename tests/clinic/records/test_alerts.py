"""Allergies and alerts: clinicians record any kind, reception the practical ones; ending
keeps the alert with who ended it; the banner on the patient page says "No known allergies
recorded" when none is; everyone else is refused, audited, and nothing is written."""

from __future__ import annotations

import pytest

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records import alerts
from clinic.records.access import AccessRefused
from clinic.records.models import AlertKind, PatientAlert
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(staff, patient_user, other_patient):
    """Everyone the refusal tests need: the staff, a patient, and someone else's record."""
    return staff, patient_user, other_patient


ALLERGY = {"kind": "allergy", "detail": "Penicillin: rash"}
NONE_RECORDED = "No known allergies recorded"


def _alert(patient, by, kind=AlertKind.ALLERGY, detail="Penicillin: rash", **fields):
    return PatientAlert.objects.create(
        patient=patient, kind=kind, detail=detail, recorded_by=by, **fields
    )


def _banner(page: str) -> str:
    start = page.index('aria-labelledby="alert-banner-heading"')
    return page[start : page.index("</section>", start)]


def test_a_clinician_records_an_allergy_and_the_banner_shows_it(client, staff, other_patient):
    clinician = staff[Role.CLINICIAN]
    sign_in(client, clinician)

    response = client.post(f"/records/patients/{other_patient.pk}/alerts/new/", ALLERGY)
    page = client.get(f"/records/patients/{other_patient.pk}/").content.decode()

    assert response.status_code == 302
    alert = PatientAlert.objects.get()
    assert (alert.kind, alert.detail, alert.recorded_by) == (
        "allergy",
        "Penicillin: rash",
        clinician,
    )
    banner = _banner(page)
    assert '<h2 id="alert-banner-heading">Alerts</h2>' in banner
    assert "<strong>Allergy:</strong>" in banner
    assert "Penicillin: rash" in banner
    assert NONE_RECORDED not in banner
    entry = AuditEntry.objects.get(action="create", object_type="patient_alert")
    assert (entry.patient, entry.detail) == (other_patient, "added: clinical alert")


def test_the_banner_says_no_known_allergies_recorded_when_none_ever_was(
    client, staff, other_patient
):
    sign_in(client, staff[Role.RECEPTION])

    page = client.get(f"/records/patients/{other_patient.pk}/").content.decode()

    banner = _banner(page)
    assert NONE_RECORDED in banner
    assert "not recorded whether the patient was asked" in banner
    assert 'role="alert"' not in banner


def test_the_banner_tells_an_ended_allergy_from_one_never_recorded(client, staff, other_patient):
    clinician = staff[Role.CLINICIAN]
    _alert(other_patient, clinician, ended_at="2024-01-01T00:00Z", ended_by=clinician)
    _alert(other_patient, clinician, kind=AlertKind.NEEDS_HOIST, detail="")
    sign_in(client, clinician)

    banner = _banner(client.get(f"/records/patients/{other_patient.pk}/").content.decode())

    assert NONE_RECORDED in banner
    assert "earlier allergy records have been ended" in banner
    assert "Needs a hoist" in banner
    assert "Penicillin" not in banner


def test_active_alerts_is_one_query(staff, other_patient, django_assert_num_queries):
    clinician = staff[Role.CLINICIAN]
    for kind in (AlertKind.ANTICOAGULATED, AlertKind.PREGNANT, AlertKind.NEEDS_HOIST):
        _alert(other_patient, clinician, kind=kind, detail="")
    _alert(other_patient, clinician)
    _alert(
        other_patient, clinician, detail="Latex", ended_at="2024-01-01T00:00Z", ended_by=clinician
    )

    with django_assert_num_queries(1):
        summary = alerts.active_alerts(other_patient)
        kinds = [alert.get_kind_display() for alert in summary.active]

    assert [a.detail for a in summary.allergies] == ["Penicillin: rash"]
    assert len(summary.others) == 3
    assert "Anticoagulated" in kinds
    assert summary.allergy_ever_recorded


def test_a_clinician_ends_an_alert_and_it_is_kept_with_who_ended_it(client, staff, other_patient):
    clinician = staff[Role.CLINICIAN]
    alert = _alert(other_patient, clinician)
    sign_in(client, clinician)

    question = client.get(f"/records/alerts/{alert.pk}/end/")
    response = client.post(f"/records/alerts/{alert.pk}/end/")
    page = client.get(f"/records/patients/{other_patient.pk}/").content.decode()

    alert.refresh_from_db()
    assert "End this alert" in question.content.decode()
    assert response.status_code == 302
    assert alert.ended_by == clinician
    assert alert.ended_at is not None
    assert "Ended alerts (1)" in page
    assert f"ended by {clinician.full_name}" in page
    entry = AuditEntry.objects.get(action="update", object_type="patient_alert")
    assert entry.detail == "ended: clinical alert"


def test_ending_an_ended_alert_is_refused_and_changes_nothing(client, staff, other_patient):
    clinician = staff[Role.CLINICIAN]
    alert = _alert(other_patient, clinician, ended_at="2024-01-01T00:00Z", ended_by=clinician)
    sign_in(client, clinician)

    response = client.post(f"/records/alerts/{alert.pk}/end/")

    assert response.status_code == 409
    assert alerts.ALREADY_ENDED in response.content.decode()
    alert.refresh_from_db()
    assert alert.ended_at.year == 2024


def test_the_same_alert_twice_is_refused(client, staff, other_patient):
    _alert(other_patient, staff[Role.CLINICIAN])
    sign_in(client, staff[Role.CLINICIAN])

    response = client.post(
        f"/records/patients/{other_patient.pk}/alerts/new/",
        {"kind": "allergy", "detail": "penicillin  RASH"},
    )

    assert response.status_code == 400
    assert alerts.ALREADY_ACTIVE in response.content.decode()
    assert PatientAlert.objects.count() == 1


def test_reception_record_practical_alerts_but_not_allergies(client, staff, other_patient):
    reception = staff[Role.RECEPTION]
    sign_in(client, reception)

    form = client.get(f"/records/patients/{other_patient.pk}/alerts/new/").content.decode()
    hoist = client.post(
        f"/records/patients/{other_patient.pk}/alerts/new/", {"kind": "needs_hoist"}
    )
    allergy = client.post(f"/records/patients/{other_patient.pk}/alerts/new/", ALLERGY)

    assert 'value="needs_hoist"' in form
    assert 'value="allergy"' not in form
    assert hoist.status_code == 302
    # Not a choice reception is offered: refused as any unknown choice, nothing written.
    assert allergy.status_code == 400
    assert list(PatientAlert.objects.values_list("kind", flat=True)) == ["needs_hoist"]


def test_the_service_refuses_reception_an_allergy_with_an_audit_entry(staff, other_patient):
    reception = staff[Role.RECEPTION]
    reception.is_verified = lambda: True  # as after two-factor sign-in

    with pytest.raises(AccessRefused) as refused:
        alerts.alert_add(
            context=AuditContext(actor=reception),
            patient_id=other_patient.pk,
            kind="allergy",
            detail="Penicillin: rash",
        )

    assert refused.value.reveal is True
    assert not PatientAlert.objects.exists()
    entry = AuditEntry.objects.get(actor=reception)
    assert (entry.outcome, entry.patient, entry.detail) == (
        "refused",
        other_patient,
        "create refused: clinical alert",
    )


def test_reception_see_allergies_but_cannot_end_them(client, staff, other_patient):
    allergy = _alert(other_patient, staff[Role.CLINICIAN])
    hoist = _alert(other_patient, staff[Role.CLINICIAN], kind=AlertKind.NEEDS_HOIST, detail="")
    sign_in(client, staff[Role.RECEPTION])

    page = client.get(f"/records/patients/{other_patient.pk}/").content.decode()
    response = client.post(f"/records/alerts/{allergy.pk}/end/")

    assert "Penicillin: rash" in page
    assert f"/records/alerts/{allergy.pk}/end/" not in page
    assert f"/records/alerts/{hoist.pk}/end/" in page
    assert response.status_code == 403
    allergy.refresh_from_db()
    assert allergy.ended_at is None
    assert AuditEntry.objects.filter(
        object_type="patient_alert", outcome="refused", patient=other_patient
    ).exists()


def test_a_patient_sees_their_alerts_without_who_recorded_them(client, patient_user, staff):
    record = patient_user.patient_record
    _alert(record, staff[Role.CLINICIAN])
    sign_in(client, patient_user, second_factor=False)

    page = client.get("/my/").content.decode()

    assert "Penicillin: rash" in page
    assert staff[Role.CLINICIAN].full_name not in page


@pytest.mark.parametrize(
    "route",
    [
        ("get", "/records/patients/{patient}/alerts/new/"),
        ("post", "/records/patients/{patient}/alerts/new/"),
        ("get", "/records/alerts/{alert}/end/"),
        ("post", "/records/alerts/{alert}/end/"),
    ],
)
@pytest.mark.parametrize("refused", [("own patient", 404), ("other patient", 404), ("admin", 403)])
def test_patients_and_administrators_are_refused_audited_and_nothing_changes(
    client, people, route, refused
):
    method, path = route
    who, status = refused
    staff, patient_user, other_patient = people
    target = patient_user.patient_record if who == "own patient" else other_patient
    alert = _alert(target, staff[Role.CLINICIAN], kind=AlertKind.NEEDS_HOIST, detail="")
    actor = staff[Role.ADMIN] if who == "admin" else patient_user
    sign_in(client, actor, second_factor=who == "admin")
    before = list(PatientAlert.objects.values())

    response = getattr(client, method)(path.format(patient=target.pk, alert=alert.pk), ALLERGY)

    assert response.status_code == status
    assert list(PatientAlert.objects.values()) == before
    entries = AuditEntry.objects.filter(actor=actor)
    assert [(e.outcome, e.patient_id) for e in entries] == [("refused", target.pk)]


@pytest.mark.parametrize(
    "path", ["/records/patients/999999/alerts/new/", "/records/alerts/999999/end/"]
)
def test_missing_records_are_404_and_audited(client, staff, path):
    sign_in(client, staff[Role.CLINICIAN])

    assert client.post(path, ALLERGY).status_code == 404
    assert AuditEntry.objects.filter(outcome="refused").count() == 1


@pytest.mark.parametrize(
    "bad",
    [
        ({"kind": "allergy", "detail": ""}, "detail", alerts.DETAIL_REQUIRED),
        ({"kind": "other", "detail": "  "}, "detail", alerts.DETAIL_REQUIRED),
        ({"kind": "allergy", "detail": "x" * 10_000}, "detail", alerts.DETAIL_TOO_LONG),
        ({"kind": "", "detail": "Latex"}, "kind", alerts.UNKNOWN_KIND),
        ({"kind": "cursed", "detail": "Latex"}, "kind", alerts.UNKNOWN_KIND),
        ({"detail": "Latex"}, "kind", alerts.UNKNOWN_KIND),
        ({"kind": "allergy", "detail": "Latex\x00"}, "detail", "Null characters are not allowed."),
    ],
)
def test_bad_alerts_are_400_beside_the_field_and_nothing_is_written(
    client, staff, other_patient, bad
):
    data, field, message = bad
    sign_in(client, staff[Role.CLINICIAN])

    response = client.post(f"/records/patients/{other_patient.pk}/alerts/new/", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert f'id="id_{field}_error"' in page
    assert not PatientAlert.objects.exists()
    assert not AuditEntry.objects.filter(action="create").exists()


@pytest.mark.parametrize(
    ("kind", "detail", "message"),
    [
        ("allergy", "", alerts.DETAIL_REQUIRED),
        ("allergy", "x" * 201, alerts.DETAIL_TOO_LONG),
        ("cursed", "x", alerts.UNKNOWN_KIND),
    ],
)
def test_the_service_checks_input_itself(staff, other_patient, kind, detail, message):
    clinician = staff[Role.CLINICIAN]
    clinician.is_verified = lambda: True

    with pytest.raises(alerts.AlertRefused) as refused:
        alerts.alert_add(
            context=AuditContext(actor=clinician),
            patient_id=other_patient.pk,
            kind=kind,
            detail=detail,
        )

    assert refused.value.message == message
    assert not PatientAlert.objects.exists()


def test_markup_in_an_alert_is_shown_escaped(client, staff, other_patient):
    sign_in(client, staff[Role.CLINICIAN])
    client.post(
        f"/records/patients/{other_patient.pk}/alerts/new/",
        {"kind": "other", "detail": "<script>alert(1)</script>"},
    )

    page = client.get(f"/records/patients/{other_patient.pk}/").content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _banner(page)
    assert "<script>alert(1)</script>" not in page
