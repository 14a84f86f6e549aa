"""Axis I: temporal pattern and associated features (Albanese 2013; clinical.md 1.5, 1.6)."""

from __future__ import annotations

from dataclasses import dataclass

from dystonia import sources
from dystonia.classification.reasons import Reason
from dystonia.findings import AssociatedFeature, Course, FeatureKind, Findings, Variability


@dataclass(frozen=True)
class TemporalPattern:
    """Course (``None`` when not recorded) and variability, a multi-select."""

    course: Course | None
    variability: frozenset[Variability]


@dataclass(frozen=True)
class AssociatedFeatures:
    """Isolated or not (combined when with another movement disorder), and the features seen."""

    isolated: bool
    movement_disorders: frozenset[AssociatedFeature]
    motor_signs: frozenset[AssociatedFeature]
    neurological: frozenset[AssociatedFeature]
    systemic: frozenset[AssociatedFeature]

    @property
    def combined(self) -> bool:
        return bool(self.movement_disorders)


def _listed(features: frozenset[AssociatedFeature]) -> str:
    return ", ".join(sorted(feature.value.replace("_", " ") for feature in features))


def temporal_pattern(findings: Findings) -> tuple[TemporalPattern, Reason]:
    """The temporal pattern as recorded; variability may combine several values."""
    course = findings.course.value if findings.course else "not recorded"
    variability = _listed_variability(findings.variability) or "not recorded"
    text = f"temporal pattern: course {course}; variability {variability}"
    pattern = TemporalPattern(findings.course, findings.variability)
    return pattern, Reason("temporal_pattern", text, sources.ALBANESE_2013)


def _listed_variability(values: frozenset[Variability]) -> str:
    return ", ".join(sorted(value.value.replace("_", "-") for value in values))


def associated_features(findings: Findings) -> tuple[AssociatedFeatures, Reason]:
    """Isolated when dystonia is the only motor feature except tremor; combined when with
    another movement disorder."""
    by_kind = findings.features_of_kind
    movement = by_kind[FeatureKind.MOVEMENT_DISORDER]
    motor = by_kind[FeatureKind.MOTOR_SIGN]
    isolated = not movement and not motor
    if isolated:
        tremor = " (tremor does not count against isolated)" if by_kind[FeatureKind.TREMOR] else ""
        text = f"isolated: dystonia is the only motor feature{tremor}"
    elif movement:
        text = f"combined: dystonia with {_listed(movement)}"
        if motor:
            text += f", and other motor signs: {_listed(motor)}"
    else:
        text = f"not isolated: other motor signs: {_listed(motor)}"
    others = by_kind[FeatureKind.NEUROLOGICAL] | by_kind[FeatureKind.SYSTEMIC]
    if others:
        text += f"; also recorded: {_listed(others)}"
    result = AssociatedFeatures(
        isolated=isolated,
        movement_disorders=movement,
        motor_signs=motor,
        neurological=by_kind[FeatureKind.NEUROLOGICAL],
        systemic=by_kind[FeatureKind.SYSTEMIC],
    )
    return result, Reason("isolated", text, sources.ALBANESE_2013)
