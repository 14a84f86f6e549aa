"""Axis I and II against the 2013 consensus examples (clinical.md 1.2-1.7)."""

from __future__ import annotations

import pytest

from dystonia.anatomy import DEFAULT_ADJACENCY
from dystonia.classification import AgeBand, Distribution, EtiologyCategory, classify
from dystonia.classification.age import AgeBandBounds, age_at_onset_band
from dystonia.classification.distribution import body_distribution
from dystonia.findings import (
    AcquiredCause,
    AssociatedFeature,
    Etiology,
    Inheritance,
    NervousSystemPathology,
)
from tests.dystonia.helpers import (
    JAW,
    L_ARM,
    L_LEG,
    LARYNX,
    LOWER_FACE,
    NECK,
    R_ARM,
    R_LEG,
    TRUNK,
    UPPER_FACE,
    findings,
)


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, AgeBand.INFANCY),
        (2, AgeBand.INFANCY),
        (3, AgeBand.CHILDHOOD),
        (12, AgeBand.CHILDHOOD),
        (13, AgeBand.ADOLESCENCE),
        (20, AgeBand.ADOLESCENCE),
        (21, AgeBand.EARLY_ADULTHOOD),
        (40, AgeBand.EARLY_ADULTHOOD),
        (41, AgeBand.LATE_ADULTHOOD),
        (90, AgeBand.LATE_ADULTHOOD),
    ],
)
def test_age_bands_on_both_sides_of_every_boundary(age, band):
    assert age_at_onset_band(age)[0] is band


def test_the_40_41_edge_can_be_moved_for_clinical_sign_off():
    bounds = AgeBandBounds(late_adulthood_from=40)

    assert age_at_onset_band(40, bounds=bounds)[0] is AgeBand.LATE_ADULTHOOD


@pytest.mark.parametrize(
    "sites",
    [{UPPER_FACE}, {NECK}, {LARYNX}, {R_ARM}, {LOWER_FACE}],
    ids=["blepharospasm", "cervical", "laryngeal", "writers-cramp", "oromandibular"],
)
def test_focal_one_region(sites):
    assert body_distribution(sites).distribution is Distribution.FOCAL


@pytest.mark.parametrize(
    "sites",
    [
        {UPPER_FACE, NECK},  # cranial + cervical
        {NECK, R_ARM},  # cervical + upper limb
        {UPPER_FACE, LOWER_FACE},  # blepharospasm + oromandibular
        {UPPER_FACE, JAW, LARYNX},  # cranial segmental, by the cranial decision
        {NECK, TRUNK},
        {L_ARM, R_ARM},  # bibrachial, by convention
        {UPPER_FACE, NECK, L_ARM},  # three contiguous regions: segmental by the reference's rule
    ],
)
def test_segmental_contiguous_regions(sites):
    result = body_distribution(sites)

    assert result.distribution is Distribution.SEGMENTAL
    assert result.leg_involvement is None


@pytest.mark.parametrize(
    "sites",
    [
        {R_ARM, L_LEG},  # upper + lower limb
        {UPPER_FACE, R_ARM},  # cranial + upper limb
        {UPPER_FACE, L_ARM},  # blepharospasm + writer's cramp
        {LARYNX, L_LEG},
    ],
)
def test_multifocal_non_contiguous_regions(sites):
    assert body_distribution(sites).distribution is Distribution.MULTIFOCAL


def test_generalized_is_trunk_plus_two_other_regions_with_legs():
    result = body_distribution({TRUNK, NECK, L_LEG})

    assert result.distribution is Distribution.GENERALIZED
    assert result.leg_involvement is True


def test_generalized_without_leg_involvement():
    result = body_distribution({TRUNK, NECK, R_ARM})

    assert result.distribution is Distribution.GENERALIZED
    assert result.leg_involvement is False


def test_trunk_with_only_one_other_region_is_not_generalized():
    assert body_distribution({TRUNK, L_LEG}).distribution is Distribution.SEGMENTAL


def test_hemidystonia_is_the_arm_and_leg_of_one_side():
    result = body_distribution({L_ARM, L_LEG})

    assert result.distribution is Distribution.HEMIDYSTONIA
    assert "left upper and lower limbs" in result.reason.text


def test_hemidystonia_may_include_the_face():
    assert body_distribution({R_ARM, R_LEG, LOWER_FACE}).distribution is Distribution.HEMIDYSTONIA


def test_a_limb_on_the_other_side_rules_out_hemidystonia():
    assert body_distribution({L_ARM, L_LEG, R_ARM}).distribution is not Distribution.HEMIDYSTONIA


def test_trunk_with_one_sided_limbs_is_generalized_by_the_derivation_order():
    assert body_distribution({TRUNK, L_ARM, L_LEG}).distribution is Distribution.GENERALIZED


def test_removing_a_convention_edge_turns_segmental_into_multifocal():
    adjacency = DEFAULT_ADJACENCY.without((L_ARM, R_ARM))

    assert body_distribution({L_ARM, R_ARM}, adjacency=adjacency).distribution is (
        Distribution.MULTIFOCAL
    )


def test_segmental_reason_names_the_regions_and_any_convention():
    reason = body_distribution({L_ARM, R_ARM}).reason.text

    assert reason.startswith("segmental: left upper limb and right upper limb are contiguous")
    assert "by convention" in reason


def test_segmental_reason_reads_as_the_issue_asks():
    assert body_distribution({NECK, R_ARM}).reason.text == (
        "segmental: neck and right upper limb are contiguous"
    )


def test_tremor_alone_keeps_dystonia_isolated():
    result = classify(findings(NECK, associated_features=frozenset({AssociatedFeature.TREMOR})))

    assert result.isolated is True


@pytest.mark.parametrize(
    "feature",
    [AssociatedFeature.MYOCLONUS, AssociatedFeature.PARKINSONISM, AssociatedFeature.CHOREA],
)
def test_another_movement_disorder_makes_it_combined(feature):
    result = classify(findings(NECK, associated_features=frozenset({feature})))

    assert result.isolated is False
    assert next(r for r in result.reasons if r.about == "isolated").text.startswith("combined")


def test_other_neurological_signs_alone_keep_it_isolated_but_are_recorded():
    result = classify(
        findings(NECK, associated_features=frozenset({AssociatedFeature.COGNITIVE_DECLINE}))
    )

    assert result.isolated is True
    assert result.associated.neurological == {AssociatedFeature.COGNITIVE_DECLINE}


def test_family_history_alone_is_idiopathic_familial():
    result = classify(findings(NECK, family_history=True))

    assert result.axis_ii.category is EtiologyCategory.IDIOPATHIC
    assert result.axis_ii.idiopathic_kind.value == "familial"


def test_no_facts_is_idiopathic_sporadic():
    assert classify(findings(NECK)).axis_ii.idiopathic_kind.value == "sporadic"


def test_a_confirmed_inheritance_is_inherited():
    etiology = Etiology(inheritance=Inheritance.AUTOSOMAL_DOMINANT, gene="TOR1A")
    result = classify(findings(R_ARM, TRUNK, L_LEG, age=9, etiology=etiology))

    assert result.axis_ii.category is EtiologyCategory.INHERITED
    assert "TOR1A" in next(r for r in result.reasons if r.about == "etiology").text


def test_an_acquired_cause_with_a_structural_lesion():
    etiology = Etiology(
        acquired_cause=AcquiredCause.VASCULAR,
        nervous_system_pathology=NervousSystemPathology.STRUCTURAL_LESION,
    )
    result = classify(findings(L_ARM, L_LEG, age=60, etiology=etiology))

    assert result.axis_ii.category is EtiologyCategory.ACQUIRED
    assert result.axis_ii.nervous_system_pathology is NervousSystemPathology.STRUCTURAL_LESION
    assert result.distribution is Distribution.HEMIDYSTONIA


def test_the_classification_version_is_part_of_the_result():
    assert classify(findings(NECK)).classification_version == "2013"
