"""Treatment pathway against clinical.md sections 5 and 6."""

from __future__ import annotations

import pytest

from dystonia.assessment import assess
from dystonia.findings import AcquiredCause, AssociatedFeature, Etiology, Inheritance, Variability
from dystonia.pathway import Line, Treatment
from tests.dystonia.helpers import (
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


def _steps(case):
    return {step.treatment: step for step in assess(case).pathway.steps}


def test_botulinum_toxin_is_first_line_for_cervical_dystonia_and_blepharospasm():
    assert _steps(findings(NECK))[Treatment.BOTULINUM_TOXIN].line is Line.FIRST_LINE
    assert _steps(findings(UPPER_FACE))[Treatment.BOTULINUM_TOXIN].line is Line.FIRST_LINE


def test_botulinum_toxin_is_effective_for_writers_cramp():
    case = findings(R_ARM, variability=frozenset({Variability.ACTION_SPECIFIC}))

    assert _steps(case)[Treatment.BOTULINUM_TOXIN].line is Line.EFFECTIVE


def test_toxin_text_names_toxin_b_only_for_cervical_dystonia():
    assert "toxin B" not in _steps(findings(UPPER_FACE))[Treatment.BOTULINUM_TOXIN].text
    assert "toxin B" in _steps(findings(NECK))[Treatment.BOTULINUM_TOXIN].text


def test_laryngeal_dystonia_toxin_says_the_reference_is_silent():
    step = _steps(findings(LARYNX))[Treatment.BOTULINUM_TOXIN]

    assert step.line is Line.SECOND_LINE
    assert "does not say whether" in step.text


def test_botulinum_toxin_is_not_first_line_for_oromandibular_dystonia():
    assert _steps(findings(LOWER_FACE))[Treatment.BOTULINUM_TOXIN].line is Line.SECOND_LINE


def test_no_toxin_for_generalized_dystonia():
    assert Treatment.BOTULINUM_TOXIN not in _steps(findings(TRUNK, L_ARM, L_LEG, age=9))


def test_levodopa_trial_first_in_early_onset():
    steps = assess(findings(TRUNK, L_ARM, L_LEG, age=9)).pathway.steps

    assert steps[0].treatment is Treatment.LEVODOPA_TRIAL


def test_oral_medication_roles():
    young = _steps(findings(TRUNK, L_ARM, L_LEG, age=9))
    myoclonus = _steps(findings(NECK, associated_features=frozenset({AssociatedFeature.MYOCLONUS})))
    tardive = _steps(findings(NECK, etiology=Etiology(acquired_cause=AcquiredCause.DRUG)))

    assert young[Treatment.TRIHEXYPHENIDYL].line is Line.FIRST_LINE
    assert young[Treatment.BACLOFEN].line is Line.SECOND_LINE
    assert Treatment.CLONAZEPAM in myoclonus
    assert tardive[Treatment.TETRABENAZINE].line is Line.FIRST_LINE
    assert "tardive" in tardive[Treatment.TETRABENAZINE].text
    assert "clozapine" in tardive[Treatment.TETRABENAZINE].text


def test_tetrabenazine_is_second_line_when_the_drug_cause_is_only_suspected():
    step = _steps(findings(NECK, drug_exposure=True))[Treatment.TETRABENAZINE]

    assert step.line is Line.SECOND_LINE
    assert "only suspected" in step.text


def test_trihexyphenidyl_text_agrees_with_its_line():
    adult_focal = _steps(findings(NECK))[Treatment.TRIHEXYPHENIDYL]

    assert adult_focal.line is Line.SECOND_LINE
    assert adult_focal.text.startswith("oral option")


def test_speech_therapy_when_speech_or_swallowing_regions_are_involved():
    assert Treatment.SPEECH_THERAPY in _steps(findings(LARYNX))
    assert Treatment.SPEECH_THERAPY not in _steps(findings(R_ARM))


def test_deep_brain_stimulation_for_refractory_isolated_generalized_segmental_or_cervical():
    assert _steps(findings(TRUNK, L_ARM, L_LEG, age=9))[Treatment.DEEP_BRAIN_STIMULATION].line is (
        Line.REFRACTORY
    )
    assert Treatment.DEEP_BRAIN_STIMULATION in _steps(findings(NECK))
    combined = findings(
        TRUNK, L_ARM, L_LEG, associated_features=frozenset({AssociatedFeature.PARKINSONISM})
    )
    assert Treatment.DEEP_BRAIN_STIMULATION not in _steps(combined)
    assert Treatment.DEEP_BRAIN_STIMULATION not in _steps(findings(UPPER_FACE))


def test_dbs_warns_it_is_less_effective_in_acquired_dystonia():
    case = findings(NECK, R_ARM, etiology=Etiology(acquired_cause=AcquiredCause.VASCULAR))

    assert "less effective in acquired" in _steps(case)[Treatment.DEEP_BRAIN_STIMULATION].text


def test_selective_peripheral_denervation_for_cervical_dystonia_in_secondary_non_responders():
    step = _steps(findings(NECK))[Treatment.SELECTIVE_PERIPHERAL_DENERVATION]

    assert "secondary non-responders" in step.text
    assert Treatment.SELECTIVE_PERIPHERAL_DENERVATION not in _steps(findings(UPPER_FACE))


@pytest.mark.parametrize(
    "sites",
    [(NECK, UPPER_FACE), (NECK, TRUNK, L_ARM), (NECK, R_ARM)],
    ids=["meige-neck", "generalized", "segmental"],
)
def test_denervation_only_for_focal_cervical_dystonia(sites):
    assert Treatment.SELECTIVE_PERIPHERAL_DENERVATION not in _steps(findings(*sites, age=12))


def test_motor_signs_other_than_tremor_rule_out_dbs_for_isolated_dystonia():
    case = findings(
        TRUNK, L_ARM, L_LEG, age=9, associated_features=frozenset({AssociatedFeature.SPASTICITY})
    )

    assert Treatment.DEEP_BRAIN_STIMULATION not in _steps(case)


def test_confirmed_dopa_responsive_dystonia_gets_levodopa_not_a_trial():
    steps = _steps(
        findings(
            L_LEG, age=7, etiology=Etiology(gene="GCH1", inheritance=Inheritance.AUTOSOMAL_DOMINANT)
        )
    )

    assert Treatment.LEVODOPA in steps
    assert Treatment.LEVODOPA_TRIAL not in steps


def test_no_levodopa_trial_when_another_cause_is_known():
    case = findings(
        TRUNK,
        L_ARM,
        L_LEG,
        age=9,
        etiology=Etiology(gene="TOR1A", inheritance=Inheritance.AUTOSOMAL_DOMINANT),
    )

    assert Treatment.LEVODOPA_TRIAL not in _steps(case)


def test_steps_are_in_escalation_order_and_each_has_a_source():
    steps = assess(findings(NECK, LOWER_FACE, age=15)).pathway.steps
    order = list(Treatment)

    assert [order.index(s.treatment) for s in steps] == sorted(
        order.index(s.treatment) for s in steps
    )
    assert all(step.source for step in steps)
    assert steps[-1].line is Line.REFRACTORY


def test_functional_dystonia_gets_no_pathway_from_the_reference():
    result = assess(findings(L_ARM, etiology=Etiology(acquired_cause=AcquiredCause.PSYCHOGENIC)))

    assert result.pathway.steps == ()
    assert "no treatment pathway" in result.pathway.note
