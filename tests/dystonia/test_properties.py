"""Invariants of classification, checked over generated cases (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dystonia.anatomy import ALL_BODY_SITES, BodySite, Region
from dystonia.assessment import assess, assessment_document
from dystonia.classification import Distribution, classify
from dystonia.findings import AssociatedFeature, Findings, Variability, findings_from_document

sites = st.frozensets(st.sampled_from(ALL_BODY_SITES), min_size=1)
cases = st.builds(
    Findings,
    age_at_onset_years=st.integers(min_value=0, max_value=130),
    regions=sites,
    variability=st.frozensets(st.sampled_from(list(Variability))),
    associated_features=st.frozensets(st.sampled_from(list(AssociatedFeature))),
    family_history=st.booleans(),
    drug_exposure=st.booleans(),
)


def _document(case: Findings, order: list[BodySite]) -> dict:
    return {
        "age_at_onset_years": case.age_at_onset_years,
        "regions": [
            {"region": s.region.value, "side": s.side.value if s.side else None} for s in order
        ],
        "variability": sorted(v.value for v in case.variability),
        "associated_features": sorted(f.value for f in case.associated_features),
        "family_history": case.family_history,
        "drug_exposure": case.drug_exposure,
    }


@given(case=cases, data=st.data())
def test_the_order_of_regions_never_changes_the_result(case, data):
    order = data.draw(st.permutations(sorted(case.regions)))
    first = assessment_document(
        assess(findings_from_document(_document(case, sorted(case.regions))))
    )
    second = assessment_document(assess(findings_from_document(_document(case, list(order)))))

    assert first == second


@given(case=cases)
def test_mirroring_left_and_right_never_changes_the_distribution(case):
    mirrored = Findings(
        age_at_onset_years=case.age_at_onset_years,
        regions=frozenset(site.mirrored() for site in case.regions),
    )

    assert classify(case).distribution is classify(mirrored).distribution


@given(case=cases, extra=st.sampled_from(ALL_BODY_SITES))
def test_adding_a_region_to_a_generalized_case_keeps_it_generalized(case, extra):
    if classify(case).distribution is not Distribution.GENERALIZED:
        return
    bigger = Findings(age_at_onset_years=case.age_at_onset_years, regions=case.regions | {extra})

    assert classify(bigger).distribution is Distribution.GENERALIZED


@given(case=cases)
def test_every_conclusion_has_a_reason(case):
    result = classify(case)
    about = {reason.about for reason in result.reasons}

    assert {
        "age_at_onset_band",
        "distribution",
        "temporal_pattern",
        "isolated",
        "etiology",
    } <= about
    assert {f"form:{form.value}" for form in result.form_ids} <= about
    assert all(reason.text and reason.source for reason in result.reasons)


@given(case=cases)
def test_focal_means_one_region_and_generalized_needs_the_trunk(case):
    result = classify(case)

    if result.distribution is Distribution.FOCAL:
        assert len(case.regions) == 1
    if result.distribution is Distribution.GENERALIZED:
        assert any(site.region is Region.TRUNK for site in case.regions)
        assert result.leg_involvement is not None
    else:
        assert result.leg_involvement is None


@given(case=cases)
def test_isolated_exactly_when_dystonia_is_the_only_motor_feature_but_tremor(case):
    movement = {
        AssociatedFeature.MYOCLONUS,
        AssociatedFeature.PARKINSONISM,
        AssociatedFeature.CHOREA,
    }
    motor = {
        AssociatedFeature.ATAXIA,
        AssociatedFeature.SPASTICITY,
        AssociatedFeature.PYRAMIDAL_SIGNS,
    }
    result = classify(case)

    assert result.isolated is not bool(case.associated_features & (movement | motor))
    assert result.associated.combined is bool(case.associated_features & movement)
