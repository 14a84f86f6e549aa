"""Deep brain stimulation systems, leads and battery checks through the services: any clinician
records them, nobody else reads or writes them, every access is audited, bad input is refused
with a message naming its field and nothing written, a merged record is refused, a lock error
is "busy", and a battery reading low or worse raises the alert."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records.access import AccessRefused
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.locks import BUSY
from clinic.records.merged import MERGED
from clinic.records.models import Patient
from clinic.records.selectors import PatientNotFound
from clinic.scheduling.availability import local_today
from clinic.treatment import dbs, rules, selectors
from clinic.treatment.dbs import BatteryDetails, LeadDetails
from clinic.treatment.models import BatteryCheck, DbsLead, DbsSystem
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.clinic.treatment.conftest import last_audit_pk, new_entries
from tests.clinic.treatment.helpers import LEFT, RIGHT, SYSTEM, add_system, with_

pytestmark = pytest.mark.django_db

TOMORROW = local_today() + timedelta(days=1)


def _refused(call) -> rules.TreatmentRefused:
    with pytest.raises(rules.TreatmentRefused) as refused:
        call()
    return refused.value


def _battery(unit, system, status="ok", *, day=date(2024, 1, 10), percent=None, user=None):
    return dbs.battery_check_add(
        context=context_of(user or unit["clinician"]),
        system_id=system.pk,
        details=BatteryDetails(checked_on=day, status=status, percent=percent),
    )


def test_a_clinician_records_a_system_with_its_leads_audited_by_ids_only(unit):
    before = last_audit_pk()

    system = add_system(unit)

    assert (system.target, system.generator_model, system.rechargeable) == (
        "gpi",
        "Activa PC",
        False,
    )
    assert list(DbsLead.objects.values_list("hemisphere", "model", "contact_count")) == [
        ("left", "3389", 4),
        ("right", "3389", 4),
    ]
    entry = new_entries(before).get()
    assert (entry.action, entry.object_type, entry.detail) == (
        "create",
        "dbs_system",
        "dbs system added (2 leads)",
    )
    assert entry.patient == unit["patient"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"target": "thalamus"}, "target", "Target: choose from the list."),
        ({"target": "other"}, "target_other", dbs.TARGET_OTHER_REQUIRED),
        ({"implanted_on": TOMORROW}, "implanted_on", "The implant date cannot be in the future."),
        ({"implanted_on": date(1969, 12, 31)}, "implanted_on", None),
        ({"implanted_on": "2020-06-01"}, "implanted_on", rules.BAD_DATE),
        ({"implanted_on": None}, "implanted_on", None),
        ({"generator": "activa"}, "generator", None),
        ({"generator_model": ""}, "generator_model", dbs.GENERATOR_OTHER_REQUIRED),
        ({"generator_model": "x" * 101}, "generator_model", None),
        ({"rechargeable": "yes"}, "rechargeable", "Rechargeable: answer yes or no."),
        ({"mri_status": "safe"}, "mri_status", None),
        ({"notes": "x" * 5001}, "notes", "Notes can be at most 5,000 characters."),
        ({"notes": "a\x00b"}, "notes", NUL_CHARACTER),
        ({"notes": 5}, "notes", rules.BAD_TEXT),
    ],
)
def test_a_bad_system_is_refused_naming_its_field_and_nothing_written(
    unit, changes, field, message
):
    before = last_audit_pk()

    refused = _refused(lambda: add_system(unit, with_(SYSTEM, **changes)))

    assert (refused.field, refused.status) == (field, 400)
    if message:
        assert refused.message == message
    assert not DbsSystem.objects.exists()
    entry = new_entries(before).get()
    assert (entry.outcome, entry.patient) == ("refused", unit["patient"])


@pytest.mark.parametrize(
    ("lead", "field"),
    [
        (with_(LEFT, contact_count=0), "contact_count"),
        (with_(LEFT, contact_count=17), "contact_count"),
        (with_(LEFT, contact_count="4"), "contact_count"),
        (with_(LEFT, contact_count=True), "contact_count"),
        (with_(LEFT, model="3391"), "model"),
        (with_(LEFT, model="other"), "model_other"),
        (with_(LEFT, hemisphere="both"), "hemisphere"),
    ],
)
def test_a_bad_lead_is_refused_and_nothing_written(unit, lead, field):
    refused = _refused(lambda: add_system(unit, leads=[lead]))

    assert refused.field == field
    assert not DbsSystem.objects.exists()
    assert not DbsLead.objects.exists()


def test_two_leads_in_one_hemisphere_are_refused(unit):
    refused = _refused(lambda: add_system(unit, leads=[LEFT, LEFT]))

    assert refused.message == dbs.ONE_LEAD_PER_HEMISPHERE
    assert not DbsSystem.objects.exists()


def test_another_lead_or_generator_keeps_its_name_and_a_catalogue_one_drops_it(unit):
    other = LeadDetails(
        hemisphere="left", model="other", model_other="Made-up 8-contact", contact_count=8
    )
    named = add_system(unit, leads=[other, with_(RIGHT, model_other="ignored")])
    vercise = add_system(
        unit, with_(SYSTEM, generator="vercise", generator_model="ignored"), leads=[]
    )

    left, right = DbsLead.objects.filter(system=named).order_by("hemisphere")
    assert (left.model, left.model_other) == ("other", "Made-up 8-contact")
    assert (right.model, right.model_other) == ("3389", "")
    assert (vercise.generator, vercise.generator_model) == ("vercise", "")
    assert dbs.lead_label(left) == "Made-up 8-contact"
    assert dbs.lead_label(right) == "Medtronic 3389"
    assert dbs.generator_label(vercise) == "Boston Scientific Vercise"


def test_a_lead_is_added_or_changed_per_hemisphere(unit):
    system = add_system(unit, leads=[LEFT])
    context = context_of(unit["colleague"])  # any clinician

    added = dbs.dbs_lead_save(context=context, system_id=system.pk, details=RIGHT)
    changed = dbs.dbs_lead_save(
        context=context, system_id=system.pk, details=with_(LEFT, model="3387")
    )

    assert added.hemisphere == "right"
    assert (changed.hemisphere, changed.model) == ("left", "3387")
    assert DbsLead.objects.filter(system=system).count() == 2


def test_a_system_change_is_audited_with_the_fields_changed(unit):
    system = add_system(unit)
    before = last_audit_pk()

    dbs.dbs_system_update(
        context=context_of(unit["colleague"]),
        system_id=system.pk,
        details=with_(SYSTEM, rechargeable=True, notes="Replaced in 2023."),
    )

    assert DbsSystem.objects.get().rechargeable
    assert new_entries(before).get().detail == "dbs system changed: rechargeable, notes"


def test_the_implant_day_cannot_move_after_a_battery_check(unit):
    system = add_system(unit)
    _battery(unit, system, day=date(2021, 1, 1))

    refused = _refused(
        lambda: dbs.dbs_system_update(
            context=context_of(unit["clinician"]),
            system_id=system.pk,
            details=with_(SYSTEM, implanted_on=date(2021, 6, 1)),
        )
    )

    assert refused.message == dbs.IMPLANT_AFTER_RECORDS
    assert DbsSystem.objects.get().implanted_on == SYSTEM.implanted_on


# The battery alert


@pytest.mark.parametrize(
    ("status", "alerted"), [("ok", False), ("low", True), ("eri", True), ("eos", True)]
)
def test_the_alert_is_raised_when_the_latest_check_is_low_or_worse(unit, status, alerted):
    system = add_system(unit)
    _battery(unit, system, status, percent=12)

    alerts = selectors.battery_alerts(unit["patient"])

    assert bool(alerts) is alerted
    if alerted:
        assert "abrupt loss of stimulation can precipitate a dystonic crisis" in alerts[0].text
        assert "Yianni" in alerts[0].source


def test_only_the_latest_check_counts(unit):
    system = add_system(unit)
    _battery(unit, system, "low", day=date(2023, 1, 1))
    _battery(unit, system, "ok", day=date(2023, 2, 1))  # replaced since

    assert selectors.battery_alerts(unit["patient"]) == []

    _battery(unit, system, "eri", day=date(2024, 2, 1))

    [alert] = selectors.battery_alerts(unit["patient"])
    assert alert.text.startswith("Battery replacement due (eri) (checked 1 February 2024)")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "flat"}, "status"),
        ({"percent": 101}, "percent"),
        ({"percent": -1}, "percent"),
        ({"percent": "50"}, "percent"),
        ({"percent": 50.5}, "percent"),
        ({"day": date(2020, 5, 31)}, "checked_on"),  # before the implant
        ({"day": TOMORROW}, "checked_on"),
        ({"day": None}, "checked_on"),
    ],
)
def test_a_bad_battery_check_is_refused_and_nothing_written(unit, changes, field):
    system = add_system(unit)

    refused = _refused(lambda: _battery(unit, system, **({"status": "ok"} | changes)))

    assert refused.field == field
    assert not BatteryCheck.objects.exists()


# Who


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_other_staff_are_refused_403_for_the_patient_and_404_by_id(unit, role):
    system = add_system(unit)
    user = unit["reception" if role == Role.RECEPTION else "admin"]
    before = last_audit_pk()

    with pytest.raises(AccessRefused) as add:
        add_system(unit, user=user)
    with pytest.raises(AccessRefused) as battery:
        _battery(unit, system, "low", user=user)
    with pytest.raises(AccessRefused) as lead:
        dbs.dbs_lead_save(context=context_of(user), system_id=system.pk, details=LEFT)
    with pytest.raises(AccessRefused) as read:
        dbs.system_for_clinician(context=context_of(user), system_id=system.pk)

    assert add.value.reveal
    assert not battery.value.reveal
    assert not lead.value.reveal
    assert not read.value.reveal
    assert DbsSystem.objects.count() == 1
    assert not BatteryCheck.objects.exists()
    entries = new_entries(before)
    assert set(entries.values_list("outcome", "actor", "patient")) == {
        ("refused", user.pk, unit["patient"].pk)
    }


def test_a_patient_is_refused_404_even_for_their_own_record(unit):
    system = add_system(unit)
    user = unit["patient_user"]

    with pytest.raises(AccessRefused) as add:
        add_system(unit, user=user)
    with pytest.raises(AccessRefused) as read:
        dbs.system_for_clinician(context=context_of(user), system_id=system.pk)

    assert not add.value.reveal
    assert not read.value.reveal
    assert DbsSystem.objects.count() == 1


def test_an_unknown_patient_or_system_is_not_found_and_audited(unit):
    context = context_of(unit["clinician"])
    before = last_audit_pk()

    with pytest.raises(PatientNotFound):
        add_system(unit, patient=Patient(pk=999_999))
    with pytest.raises(dbs.DbsSystemNotFound):
        _battery(unit, DbsSystem(pk=999_999))
    with pytest.raises(dbs.DbsSystemNotFound):
        dbs.system_for_clinician(context=context, system_id=999_999)

    assert not DbsSystem.objects.exists()
    assert list(new_entries(before).values_list("outcome", "detail")) == [
        ("refused", "no such patient"),
        ("refused", "no such dbs system"),
        ("refused", "no such dbs system"),
    ]


def test_a_read_by_id_is_audited(unit):
    system = add_system(unit)
    before = last_audit_pk()

    dbs.system_for_clinician(context=context_of(unit["colleague"]), system_id=system.pk)

    entry = new_entries(before).get()
    assert (entry.action, entry.object_id, entry.detail) == (
        "read",
        str(system.pk),
        "dbs system read",
    )


# A merged record, a lock error


def _merge_away(unit) -> Patient:
    """Mark the patient's record merged into a new one (as records/merge.py leaves it)."""
    keep = factories.patient()
    Patient.objects.filter(pk=unit["patient"].pk).update(merged_into=keep, merged_at=timezone.now())
    return keep


def test_writes_to_a_merged_record_are_refused_409_and_audited(unit):
    system = add_system(unit)
    keep = _merge_away(unit)
    before = last_audit_pk()

    add = _refused(lambda: add_system(unit))
    battery = _refused(lambda: _battery(unit, system, "low"))

    for refusal in (add, battery):
        assert refusal.status == 409
        assert refusal.message.startswith(MERGED.split("{", 1)[0])
        assert keep.hospital_number in refusal.message
    assert DbsSystem.objects.count() == 1
    assert not BatteryCheck.objects.exists()
    assert set(new_entries(before).values_list("outcome", flat=True)) == {"refused"}


def test_a_merge_committed_after_the_first_check_is_seen_under_the_lock(unit, monkeypatch):
    real_lock = rules.lock_unmerged

    def merged_meanwhile(patient_id, refused):
        _merge_away(unit)
        return real_lock(patient_id, refused)

    monkeypatch.setattr(rules, "lock_unmerged", merged_meanwhile)

    refused = _refused(lambda: add_system(unit))

    assert refused.status == 409
    assert not DbsSystem.objects.exists()


def test_a_lock_error_is_refused_as_busy_and_nothing_written(unit, monkeypatch):
    def deadlock(patient_id, refused):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(rules, "lock_unmerged", deadlock)
    before = last_audit_pk()

    refused = _refused(lambda: add_system(unit))

    assert (refused.message, refused.status) == (BUSY, 409)
    assert not DbsSystem.objects.exists()
    assert new_entries(before).get().outcome == "refused"


def test_audit_entries_never_name_the_device_or_its_settings(unit):
    system = add_system(unit)
    _battery(unit, system, "low", percent=10)

    details = " ".join(AuditEntry.objects.values_list("detail", flat=True))
    assert "Activa" not in details
    assert "3389" not in details
    assert "low" not in details
