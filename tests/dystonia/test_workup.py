"""Red flags and work-up against clinical.md section 3."""

from __future__ import annotations

import pytest

from dystonia.assessment import assess
from dystonia.findings import AcquiredCause, AssociatedFeature, Etiology, Inheritance, Variability
from dystonia.workup import CAERULOPLASMIN, URINARY_COPPER, RedFlag
from tests.dystonia.helpers import (
    L_ARM,
    L_LEG,
    LOWER_FACE,
    NECK,
    R_ARM,
    TRUNK,
    UPPER_FACE,
    findings,
)


def _flags(case):
    return {flag.flag for flag in assess(case).workup.red_flags}


def _items(case):
    return {item.id: item for item in assess(case).workup.items}


def test_child_with_neck_onset_is_an_atypical_site():
    assert RedFlag.ATYPICAL_SITE_FOR_AGE in _flags(findings(NECK, age=8))
    assert RedFlag.ATYPICAL_SITE_FOR_AGE not in _flags(findings(NECK, age=45))


def test_adult_with_leg_involvement():
    assert RedFlag.ADULT_ONSET_LEG in _flags(findings(L_LEG, age=35))
    assert RedFlag.ADULT_ONSET_LEG not in _flags(findings(L_LEG, age=8))


def test_adult_onset_generalized():
    assert RedFlag.ADULT_ONSET_GENERALIZED in _flags(findings(TRUNK, NECK, R_ARM, age=50))
    assert RedFlag.ADULT_ONSET_GENERALIZED not in _flags(findings(TRUNK, NECK, R_ARM, age=10))


def test_hemidystonia_is_a_red_flag():
    assert RedFlag.HEMIDYSTONIA in _flags(findings(L_ARM, L_LEG, age=50))


def test_other_neurological_signs_but_not_tremor():
    parkinsonism = frozenset({AssociatedFeature.PARKINSONISM})
    tremor = frozenset({AssociatedFeature.TREMOR})

    assert RedFlag.OTHER_NEUROLOGICAL_SIGNS in _flags(
        findings(NECK, associated_features=parkinsonism)
    )
    assert RedFlag.OTHER_NEUROLOGICAL_SIGNS not in _flags(
        findings(NECK, associated_features=tremor)
    )


def test_adult_arm_dystonia_that_is_not_task_specific():
    task = frozenset({Variability.ACTION_SPECIFIC})

    assert RedFlag.ADULT_LIMB_NOT_TASK_SPECIFIC in _flags(findings(R_ARM, age=40))
    assert RedFlag.ADULT_LIMB_NOT_TASK_SPECIFIC not in _flags(
        findings(R_ARM, age=40, variability=task)
    )


def test_drug_exposure_and_wilson_features():
    features = frozenset({AssociatedFeature.LIVER_DISEASE})

    assert RedFlag.DRUG_EXPOSURE in _flags(findings(NECK, drug_exposure=True))
    assert RedFlag.WILSON_FEATURES in _flags(findings(NECK, associated_features=features))


def test_typical_adult_cervical_dystonia_needs_no_further_work_up():
    result = assess(findings(NECK, age=45))

    assert result.workup.items == ()
    assert "needs no further work-up" in result.workup.note


def test_wilson_disease_with_the_references_cut_offs_in_stated_units():
    wilson = _items(findings(NECK, age=15))["wilson_disease"]

    names = [i.name for i in wilson.investigations]
    assert names[0] == "Serum caeruloplasmin"
    assert "24-hour urinary copper" in names[1]
    assert "Slit-lamp" in names[2]
    assert "0.2-0.5 g/L" in CAERULOPLASMIN.interpretation
    assert "0.1 g/L (10 mg/dL)" in CAERULOPLASMIN.interpretation
    assert "1.6 µmol/24 h (100 µg)" in URINARY_COPPER.interpretation
    assert "0.64 µmol/24 h (40 µg)" in URINARY_COPPER.interpretation


def test_a_normal_caeruloplasmin_never_reads_as_excluded():
    assert "does not exclude Wilson disease" in CAERULOPLASMIN.interpretation


@pytest.mark.parametrize(("age", "screened"), [(2, False), (3, True), (55, True), (56, False)])
def test_wilson_screening_window_is_3_to_55_for_combined_dystonia(age, screened):
    combined = frozenset({AssociatedFeature.PARKINSONISM})

    assert (
        "wilson_disease" in _items(findings(NECK, age=age, associated_features=combined))
    ) is screened


def test_kayser_fleischer_rings_prompt_wilson_work_up_at_any_age():
    rings = frozenset({AssociatedFeature.KAYSER_FLEISCHER_RINGS})

    assert "wilson_disease" in _items(findings(NECK, age=60, associated_features=rings))


def test_adult_isolated_dystonia_is_not_screened_for_wilson():
    assert "wilson_disease" not in _items(findings(UPPER_FACE, age=30))


@pytest.mark.parametrize(("age", "trial"), [(20, True), (21, False)])
def test_levodopa_trial_in_early_onset_dystonia(age, trial):
    assert ("levodopa_trial" in _items(findings(NECK, age=age))) is trial


def test_mri_when_red_flags_suggest_a_structural_cause():
    imaging = _items(findings(L_ARM, L_LEG, age=50))["structural_cause"]

    assert "hemidystonia" in imaging.reason
    assert imaging.investigations[0].name.startswith("MRI")


@pytest.mark.parametrize(("age", "tested"), [(29, True), (30, False)])
def test_tor1a_for_limb_onset_under_30(age, tested):
    genetic = _items(findings(R_ARM, age=age, variability=frozenset({Variability.ACTION_SPECIFIC})))
    names = (
        [i.name for i in genetic["genetic_testing"].investigations]
        if "genetic_testing" in genetic
        else []
    )

    assert any("TOR1A" in name for name in names) is tested


def test_thap1_for_early_onset_craniocervical_dystonia():
    names = [
        i.name for i in _items(findings(NECK, LOWER_FACE, age=18))["genetic_testing"].investigations
    ]

    assert any("THAP1" in name for name in names)


def test_sgce_for_early_onset_myoclonus():
    case = findings(NECK, age=10, associated_features=frozenset({AssociatedFeature.MYOCLONUS}))
    names = [i.name for i in _items(case)["genetic_testing"].investigations]

    assert any("SGCE" in name for name in names)


def test_drug_exposure_prompts_a_medicines_review():
    assert "drug_review" in _items(findings(NECK, drug_exposure=True))


def test_childhood_dystonia_that_spreads_from_a_limb_to_the_neck_is_not_an_atypical_site():
    assert RedFlag.ATYPICAL_SITE_FOR_AGE not in _flags(findings(NECK, TRUNK, L_LEG, age=9))


def test_urinary_copper_marks_the_childrens_cut_off():
    assert "(the cut-off used in children)" in URINARY_COPPER.interpretation


def test_the_wilson_reason_says_where_the_age_window_comes_from():
    reason = _items(findings(NECK, age=15))["wilson_disease"].reason

    assert "unexplained liver disease" in reason


def test_a_known_cause_stops_the_search_for_one():
    gch1 = Etiology(gene="GCH1", inheritance=Inheritance.AUTOSOMAL_DOMINANT)
    functional = Etiology(acquired_cause=AcquiredCause.PSYCHOGENIC)

    for case in [
        findings(L_LEG, age=7, etiology=gch1),
        findings(L_ARM, L_LEG, age=29, etiology=functional),
    ]:
        items = _items(case)
        assert "levodopa_trial" not in items
        assert "genetic_testing" not in items
        assert "structural_cause" not in items
        assert "wilson_disease" not in items


def test_wilson_features_still_prompt_screening_when_a_cause_is_recorded():
    case = findings(
        NECK,
        age=15,
        associated_features=frozenset({AssociatedFeature.LIVER_DISEASE}),
        etiology=Etiology(acquired_cause=AcquiredCause.DRUG),
    )

    assert "wilson_disease" in _items(case)


def test_motor_signs_are_red_flags():
    case = findings(NECK, associated_features=frozenset({AssociatedFeature.SPASTICITY}))

    assert RedFlag.OTHER_NEUROLOGICAL_SIGNS in _flags(case)
