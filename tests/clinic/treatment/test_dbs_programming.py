"""DBS programming sessions: the core computes each active contact's charge density when a
session is saved, and the warning is kept with the setting when a contact exceeds the lead's
published limit (Medtronic 3387/3389: 30 µC/cm²/phase), never otherwise; settings beyond the
generator's programmable range (its labelling) are refused, and for a generator not in the
catalogue only the physically impossible; bad input names its field and writes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.records.access import AccessRefused
from clinic.treatment import dbs_programming as programming_rules
from clinic.treatment import rules, selectors
from clinic.treatment.dbs import LeadDetails
from clinic.treatment.models import DbsProgramming, DbsSetting
from tests.clinic.records.test_encounters import context_of
from tests.clinic.treatment.conftest import last_audit_pk, new_entries
from tests.clinic.treatment.helpers import (
    EXCESSIVE,
    IMPLANTED,
    SYSTEM,
    add_system,
    at,
    programming,
    record_programming,
    setting,
    with_,
)

pytestmark = pytest.mark.django_db


def _refused(unit, system, details) -> rules.TreatmentRefused:
    with pytest.raises(rules.TreatmentRefused) as refused:
        record_programming(unit, system, details)
    assert not DbsProgramming.objects.exists()
    assert not DbsSetting.objects.exists()
    return refused.value


def test_a_setting_under_the_limit_keeps_its_density_and_no_warning(unit):
    system = add_system(unit)
    before = last_audit_pk()

    session = record_programming(unit, system)

    stored = DbsSetting.objects.get(programming=session)
    assert stored.charge_density == {"1": 9.0}  # the labelling's example A
    assert stored.charge_density_warning == ""
    assert stored.contacts == {"0": "off", "1": "-", "2": "off", "3": "off", "case": "+"}
    entry = new_entries(before).get()
    assert (entry.action, entry.detail) == ("create", "dbs programming recorded (1 settings)")


def test_a_setting_over_the_limit_keeps_the_warning_with_the_session(unit):
    system = add_system(unit)

    session = record_programming(unit, system, programming(setting(**EXCESSIVE)))

    stored = DbsSetting.objects.get(programming=session)
    assert stored.charge_density == {"1": 42.7}  # the labelling's example B
    assert stored.charge_density_warning.startswith("Left lead, contact 1: Charge density 42.7")
    assert "30 µC/cm²/phase limit Medtronic publishes for the 3389 lead" in (
        stored.charge_density_warning
    )


def test_the_same_setting_at_the_mean_clinical_impedance_gives_no_warning(unit):
    system = add_system(unit)

    session = record_programming(
        unit, system, programming(setting(**EXCESSIVE, impedances={"1": 1348}))
    )

    stored = DbsSetting.objects.get(programming=session)
    assert stored.charge_density == {"1": 15.84}
    assert stored.charge_density_warning == ""


def test_each_active_contact_is_checked_and_warned_on_its_own(unit):
    system = add_system(unit)
    both = setting(
        **EXCESSIVE,
        contacts={"1": "-", "2": "-", "case": "+"},
        impedances={"1": 500, "2": 1348},
    )

    session = record_programming(unit, system, programming(both, setting("right")))

    left, right = selectors.setting_views(session)
    assert left.setting.charge_density == {"1": 42.7, "2": 15.84}
    assert len(left.warnings) == 1
    assert left.warnings[0].startswith("Left lead, contact 1:")
    assert right.warnings == []
    assert [c.density for c in left.contacts] == [None, 42.7, 15.84, None, None]


def test_a_current_setting_needs_no_impedance(unit):
    system = add_system(unit)

    session = record_programming(
        unit,
        system,
        programming(setting(amplitude=Decimal(3), amplitude_unit="mA", impedances={})),
    )

    # 3 mA x 90 µs = 0.27 µC on 0.06 cm²
    assert DbsSetting.objects.get(programming=session).charge_density == {"1": 4.5}


def test_a_lead_without_a_published_limit_is_not_checked(unit):
    other = LeadDetails(
        hemisphere="left", model="other", model_other="Made-up lead", contact_count=4
    )
    system = add_system(unit, leads=[other])

    session = record_programming(unit, system, programming(setting(**EXCESSIVE, impedances={})))

    [view] = selectors.setting_views(session)
    assert view.setting.charge_density == {}
    assert view.warnings == []
    assert not view.density_checked


# The generator's range


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {
                "amplitude": Decimal("20.5"),
                "amplitude_unit": "mA",
                "contacts": {"1": "-", "2": "-", "case": "+"},
            },
            "left_amplitude",
            "An amplitude of 20.5 mA is not allowed: expected 0.1 to 20 mA for the Boston "
            "Scientific Vercise.",
        ),
        (
            {"amplitude": Decimal(13), "amplitude_unit": "mA"},
            "left_amplitude",
            "An amplitude of 13 mA is not allowed: expected at most 12.7 mA on one contact for "
            "the Boston Scientific Vercise.",
        ),
        ({"amplitude_unit": "V"}, "left_amplitude_unit", None),
        ({"amplitude_unit": "mA", "pulse_width_us": 500}, "left_pulse_width_us", None),
        ({"amplitude_unit": "mA", "frequency_hz": Decimal(300)}, "left_frequency_hz", None),
    ],
)
def test_a_setting_beyond_the_vercise_range_is_refused(unit, changes, field, message):
    system = add_system(unit, with_(SYSTEM, generator="vercise", generator_model=""))

    refused = _refused(unit, system, programming(setting(**({"impedances": {}} | changes))))

    assert (refused.field, refused.status) == (field, 400)
    if message:
        assert refused.message == message


def test_the_vercise_range_itself_is_allowed(unit):
    system = add_system(unit, with_(SYSTEM, generator="vercise", generator_model=""))

    record_programming(
        unit,
        system,
        programming(
            setting(
                amplitude=Decimal("12.7"),
                amplitude_unit="mA",
                pulse_width_us=450,
                frequency_hz=Decimal(255),
                impedances={},
            )
        ),
    )

    assert DbsSetting.objects.count() == 1


def test_an_unknown_generator_is_refused_only_the_impossible(unit):
    system = add_system(unit)  # "Activa PC", not in the catalogue

    record_programming(
        unit, system, programming(setting(amplitude=Decimal(12), frequency_hz=Decimal(1000)))
    )
    negative = _refused_later(unit, system, amplitude=Decimal(-1))
    zero_rate = _refused_later(unit, system, frequency_hz=Decimal(0))

    assert negative.field == "left_amplitude"
    assert (
        negative.message == "An amplitude of -1 V is not allowed: expected a number of 0 or more."
    )
    assert zero_rate.field == "left_frequency_hz"


def _refused_later(unit, system, **changes):
    with pytest.raises(rules.TreatmentRefused) as refused:
        record_programming(unit, system, programming(setting(**changes)))
    return refused.value


# Bad input


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"pulse_width_us": 0}, "left_pulse_width_us", programming_rules.BAD_PULSE_WIDTH),
        ({"pulse_width_us": -60}, "left_pulse_width_us", programming_rules.BAD_PULSE_WIDTH),
        ({"pulse_width_us": 40_000}, "left_pulse_width_us", programming_rules.BAD_PULSE_WIDTH),
        ({"pulse_width_us": "90"}, "left_pulse_width_us", programming_rules.BAD_PULSE_WIDTH),
        ({"pulse_width_us": 90.0}, "left_pulse_width_us", programming_rules.BAD_PULSE_WIDTH),
        ({"amplitude": "3"}, "left_amplitude", programming_rules.BAD_AMPLITUDE),
        ({"amplitude": 3.5}, "left_amplitude", programming_rules.BAD_AMPLITUDE),
        ({"amplitude": None}, "left_amplitude", programming_rules.BAD_AMPLITUDE),
        ({"amplitude": Decimal("NaN")}, "left_amplitude", programming_rules.BAD_AMPLITUDE),
        ({"amplitude": Decimal("Infinity")}, "left_amplitude", programming_rules.BAD_AMPLITUDE),
        (
            {"amplitude": Decimal("2.555")},
            "left_amplitude",
            "The amplitude can have at most 2 decimal places.",
        ),
        ({"amplitude": Decimal(1000)}, "left_amplitude", "The amplitude can be at most 999.99."),
        ({"amplitude": Decimal("1e400")}, "left_amplitude", None),
        ({"frequency_hz": Decimal("130.25")}, "left_frequency_hz", None),
        ({"amplitude_unit": "A"}, "left_amplitude_unit", programming_rules.BAD_UNIT),
        ({"contacts": {"1": "-"}}, "left_contacts", programming_rules.NO_CIRCUIT),
        ({"contacts": {"case": "+"}}, "left_contacts", programming_rules.NO_CIRCUIT),
        ({"contacts": {"4": "-", "case": "+"}}, "left_contacts", None),
        ({"contacts": {"1": "cathode", "case": "+"}}, "left_contacts", None),
        ({"contacts": ["1"]}, "left_contacts", None),
        ({"contacts": {1: "-", "case": "+"}}, "left_contacts", None),
        (
            {"impedances": {}},
            "left_impedance_1",
            "Enter the impedance of contact 1: a voltage setting's charge density needs it.",
        ),
        (
            {"impedances": {"1": 500, "2": 900}},
            "left_impedance_2",
            "Contact 2 is off: clear its impedance, or make it active.",
        ),
        ({"impedances": {"1": 0}}, "left_impedance_1", programming_rules.BAD_IMPEDANCE),
        ({"impedances": {"1": 100_001}}, "left_impedance_1", programming_rules.BAD_IMPEDANCE),
        ({"impedances": {"1": "500"}}, "left_impedance_1", programming_rules.BAD_IMPEDANCE),
        ({"impedances": {"case": 500}}, "left_impedances", programming_rules.BAD_IMPEDANCE),
        ({"impedances": [500]}, "left_impedances", programming_rules.BAD_IMPEDANCE),
        ({"hemisphere": "middle"}, "settings", programming_rules.TWO_SETTINGS),
    ],
)
def test_a_bad_setting_is_refused_naming_its_field_and_nothing_written(
    unit, changes, field, message
):
    system = add_system(unit)
    before = last_audit_pk()

    refused = _refused(unit, system, programming(setting(**changes)))

    assert refused.field == field
    if message:
        assert refused.message == message
    entry = new_entries(before).get()
    assert (entry.outcome, entry.object_type) == ("refused", "dbs_programming")


@pytest.mark.parametrize(
    ("details", "field", "message"),
    [
        ({"settings": []}, "settings", programming_rules.NO_SETTINGS),
        ({"settings": [setting(), setting()]}, "settings", programming_rules.TWO_SETTINGS),
        (
            {"programmed_at": timezone.now() + timedelta(hours=1)},
            "programmed_at",
            programming_rules.MOMENT_IN_FUTURE,
        ),
        (
            {"programmed_at": at(IMPLANTED - timedelta(days=1))},
            "programmed_at",
            programming_rules.MOMENT_BEFORE_IMPLANT,
        ),
        ({"programmed_at": "2024-01-01T10:00"}, "programmed_at", programming_rules.BAD_MOMENT),
        (
            {"programmed_at": timezone.now().replace(tzinfo=None)},
            "programmed_at",
            programming_rules.BAD_MOMENT,
        ),
        ({"encounter": 999_999}, "encounter", rules.BAD_ENCOUNTER),
        ({"encounter": "1"}, "encounter", rules.BAD_ENCOUNTER),
        ({"side_effects": "x" * 5001}, "side_effects", None),
        ({"notes": "\x00"}, "notes", None),
    ],
)
def test_a_bad_session_is_refused_and_nothing_written(unit, details, field, message):
    system = add_system(unit)

    refused = _refused(unit, system, programming(**details))

    assert refused.field == field
    if message:
        assert refused.message == message


def test_a_setting_for_a_side_without_a_lead_is_refused(unit):
    system = add_system(unit, leads=[])

    refused = _refused(unit, system, programming())

    assert refused.message == "This system has no left lead: add the lead first."


def test_another_patients_encounter_is_refused(unit):
    from tests.clinic.records.test_diagnoses import encounter_for  # noqa: PLC0415

    system = add_system(unit)
    theirs = encounter_for(unit["other_patient"], unit["clinician"])
    ours = encounter_for(unit["patient"], unit["clinician"])

    refused = _refused(unit, system, programming(encounter=theirs.pk))
    session = record_programming(unit, system, programming(encounter=ours.pk))

    assert refused.message == rules.BAD_ENCOUNTER
    assert session.encounter_id == ours.pk


def test_a_lead_cannot_lose_contacts_its_settings_use(unit):
    from clinic.treatment import dbs  # noqa: PLC0415

    system = add_system(unit)
    record_programming(
        unit, system, programming(setting(contacts={"3": "-", "case": "+"}, impedances={"3": 900}))
    )

    with pytest.raises(rules.TreatmentRefused) as refused:
        dbs.dbs_lead_save(
            context=context_of(unit["clinician"]),
            system_id=system.pk,
            details=LeadDetails(hemisphere="left", model="3389", contact_count=3),
        )

    assert refused.value.field == "contact_count"


# Who


@pytest.mark.parametrize("who", ["reception", "admin", "patient_user"])
def test_nobody_but_a_clinician_records_or_reads_a_session_and_never_learns_it_exists(unit, who):
    system = add_system(unit)
    session = record_programming(unit, system)
    user = unit[who]
    before = last_audit_pk()

    with pytest.raises(AccessRefused) as write:
        record_programming(unit, system, user=user)
    with pytest.raises(AccessRefused) as read:
        programming_rules.programming_for_clinician(
            context=context_of(user), programming_id=session.pk
        )

    assert not write.value.reveal
    assert not read.value.reveal
    assert DbsProgramming.objects.count() == 1
    assert set(new_entries(before).values_list("outcome", flat=True)) == {"refused"}


def test_a_clinician_reads_a_session_audited(unit):
    system = add_system(unit)
    session = record_programming(unit, system)
    before = last_audit_pk()

    read = programming_rules.programming_for_clinician(
        context=context_of(unit["colleague"]), programming_id=session.pk
    )

    assert read == session
    assert new_entries(before).get().detail == "dbs programming read"
    with pytest.raises(programming_rules.ProgrammingNotFound):
        programming_rules.programming_for_clinician(
            context=context_of(unit["colleague"]), programming_id=999_999
        )


def test_a_merged_record_refuses_a_session(unit):
    from django.utils import timezone as tz  # noqa: PLC0415

    from clinic.records.models import Patient  # noqa: PLC0415
    from tests import factories  # noqa: PLC0415

    system = add_system(unit)
    Patient.objects.filter(pk=unit["patient"].pk).update(
        merged_into=factories.patient(), merged_at=tz.now()
    )

    refused = _refused(unit, system, programming())

    assert refused.status == 409


def test_role_fixture_sanity(unit):
    assert unit["reception"].role == Role.RECEPTION
