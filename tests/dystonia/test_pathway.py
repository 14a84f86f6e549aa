"""Treatment pathway against clinical.md sections 5 and 6."""

from __future__ import annotations

from dystonia.assessment import assess
from dystonia.findings import AcquiredCause, AssociatedFeature, Etiology, Variability
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

    assert _steps(case)[Treatment.BOTULINUM_TOXIN].line is Line.FIRST_LINE


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
