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
    """Isolated or combined, and the other features seen."""

    isolated: bool
    movement_disorders: frozenset[AssociatedFeature]
    neurological: frozenset[AssociatedFeature]
    systemic: frozenset[AssociatedFeature]


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
    """Isolated unless another movement disorder is present; tremor alone keeps it isolated."""
    by_kind = findings.features_of_kind
    movement = by_kind[FeatureKind.MOVEMENT_DISORDER]
    isolated = not movement
    if isolated:
        tremor = " (tremor does not count against isolated)" if by_kind[FeatureKind.TREMOR] else ""
        text = f"isolated: no other movement disorder is recorded{tremor}"
    else:
        text = f"combined: dystonia with {_listed(movement)}"
    result = AssociatedFeatures(
        isolated=isolated,
        movement_disorders=movement,
        neurological=by_kind[FeatureKind.NEUROLOGICAL],
        systemic=by_kind[FeatureKind.SYSTEMIC],
    )
    return result, Reason("isolated", text, sources.ALBANESE_2013)
