"""Named forms (clinical.md section 2 and 3.3); hemifacial spasm is never derived."""

from __future__ import annotations

import pytest

from dystonia.classification import NamedForm, classify
from dystonia.findings import AcquiredCause, AssociatedFeature, Etiology, Inheritance, Variability
from tests.dystonia.helpers import (
    JAW,
    L_ARM,
    L_LEG,
    LARYNX,
    LOWER_FACE,
    NECK,
    R_ARM,
    TRUNK,
    UPPER_FACE,
    findings,
)


def _forms(result):
    return {form.form: form for form in result.forms}


@pytest.mark.parametrize(
    ("sites", "form"),
    [
        ((NECK,), NamedForm.CERVICAL_DYSTONIA),
        ((UPPER_FACE,), NamedForm.BLEPHAROSPASM),
        ((LOWER_FACE,), NamedForm.OROMANDIBULAR_DYSTONIA),
        ((JAW,), NamedForm.OROMANDIBULAR_DYSTONIA),
        ((LARYNX,), NamedForm.LARYNGEAL_DYSTONIA),
    ],
)
def test_region_forms(sites, form):
    result = classify(findings(*sites))

    assert form in _forms(result)
    assert not _forms(result)[form].suspected


def test_blepharospasm_with_oromandibular_dystonia_is_cranial_meige():
    result = classify(findings(UPPER_FACE, JAW))

    assert set(result.form_ids) == {
        NamedForm.BLEPHAROSPASM,
        NamedForm.OROMANDIBULAR_DYSTONIA,
        NamedForm.CRANIAL_DYSTONIA,
    }


def test_action_specific_upper_limb_is_writers_cramp():
    result = classify(findings(R_ARM, variability=frozenset({Variability.ACTION_SPECIFIC})))

    assert result.form_ids == (NamedForm.WRITERS_CRAMP,)


def test_action_specific_elsewhere_is_task_specific_dystonia():
    result = classify(findings(LOWER_FACE, variability=frozenset({Variability.ACTION_SPECIFIC})))

    assert NamedForm.TASK_SPECIFIC_DYSTONIA in result.form_ids


def test_an_arm_that_is_not_action_specific_is_not_writers_cramp():
    assert NamedForm.WRITERS_CRAMP not in classify(findings(R_ARM)).form_ids


def test_myoclonus_suggests_myoclonus_dystonia_until_sgce_confirms_it():
    features = frozenset({AssociatedFeature.MYOCLONUS})
    suspected = _forms(classify(findings(NECK, R_ARM, age=8, associated_features=features)))
    confirmed = _forms(
        classify(
            findings(NECK, age=8, associated_features=features, etiology=Etiology(gene="SGCE"))
        )
    )

    assert suspected[NamedForm.MYOCLONUS_DYSTONIA].suspected is True
    assert confirmed[NamedForm.MYOCLONUS_DYSTONIA].suspected is False


def test_diurnal_fluctuation_suggests_dopa_responsive_dystonia():
    result = classify(findings(L_LEG, age=30, variability=frozenset({Variability.DIURNAL})))

    assert _forms(result)[NamedForm.DOPA_RESPONSIVE_DYSTONIA].suspected is True


def test_childhood_leg_onset_suggests_dopa_responsive_dystonia():
    result = classify(findings(L_LEG, age=7))

    assert _forms(result)[NamedForm.DOPA_RESPONSIVE_DYSTONIA].suspected is True


def test_adult_leg_without_diurnal_fluctuation_does_not():
    assert NamedForm.DOPA_RESPONSIVE_DYSTONIA not in classify(findings(L_LEG, age=30)).form_ids


def test_gch1_confirms_dopa_responsive_dystonia():
    result = classify(findings(L_LEG, age=7, etiology=Etiology(gene="GCH1")))

    assert _forms(result)[NamedForm.DOPA_RESPONSIVE_DYSTONIA].suspected is False


def test_drug_exposure_suggests_drug_induced_dystonia():
    result = classify(findings(NECK, drug_exposure=True))

    assert _forms(result)[NamedForm.DRUG_INDUCED_DYSTONIA].suspected is True


def test_a_recorded_drug_cause_is_drug_induced_dystonia():
    result = classify(findings(NECK, etiology=Etiology(acquired_cause=AcquiredCause.DRUG)))

    assert _forms(result)[NamedForm.DRUG_INDUCED_DYSTONIA].suspected is False


def test_a_psychogenic_cause_is_functional_dystonia():
    result = classify(findings(L_ARM, etiology=Etiology(acquired_cause=AcquiredCause.PSYCHOGENIC)))

    assert NamedForm.FUNCTIONAL_DYSTONIA in result.form_ids


def test_hemifacial_spasm_is_never_derived_from_regions():
    assert "hemifacial_spasm" not in {form.value for form in NamedForm}
    result = classify(findings(UPPER_FACE, LOWER_FACE))
    assert all("hemifacial" not in form.value for form in result.form_ids)


def test_every_form_has_a_reason():
    result = classify(
        findings(
            UPPER_FACE,
            JAW,
            NECK,
            age=10,
            drug_exposure=True,
            associated_features=frozenset({AssociatedFeature.MYOCLONUS}),
        )
    )

    reasons = {reason.about for reason in result.reasons}
    assert {f"form:{form.value}" for form in result.form_ids} <= reasons


def test_region_forms_are_not_named_in_generalized_dystonia():
    result = classify(findings(TRUNK, NECK, UPPER_FACE, L_ARM, age=12))

    assert NamedForm.CERVICAL_DYSTONIA not in result.form_ids
    assert NamedForm.BLEPHAROSPASM not in result.form_ids


def test_cranio_cervical_segmental_dystonia_keeps_its_region_forms():
    result = classify(findings(UPPER_FACE, NECK))

    assert {NamedForm.BLEPHAROSPASM, NamedForm.CERVICAL_DYSTONIA} <= set(result.form_ids)


def test_writers_cramp_only_when_the_arm_is_the_only_region():
    task = frozenset({Variability.ACTION_SPECIFIC})

    assert NamedForm.WRITERS_CRAMP not in classify(findings(R_ARM, NECK, variability=task)).form_ids
    assert (
        NamedForm.WRITERS_CRAMP
        not in classify(findings(R_ARM, L_ARM, TRUNK, L_LEG, age=8, variability=task)).form_ids
    )


def test_another_confirmed_gene_rules_out_suspected_dopa_responsive_dystonia():
    etiology = Etiology(gene="TOR1A", inheritance=Inheritance.AUTOSOMAL_DOMINANT)

    assert (
        NamedForm.DOPA_RESPONSIVE_DYSTONIA
        not in classify(findings(L_LEG, age=7, etiology=etiology)).form_ids
    )


def test_drug_exposure_is_named_in_the_etiology_reason():
    result = classify(findings(NECK, drug_exposure=True))

    assert "drug-induced (acquired) cause is suspected" in next(
        r.text for r in result.reasons if r.about == "etiology"
    )
