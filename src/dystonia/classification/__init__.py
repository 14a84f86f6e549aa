"""The consensus classification of dystonia (Albanese 2013) from findings, with reasons.

>>> from dystonia.anatomy import BodySite, Region
>>> from dystonia.findings import Findings
>>> result = classify(Findings(age_at_onset_years=45, regions=frozenset({BodySite(Region.NECK)})))
>>> result.distribution.value, result.age_at_onset_band.value, result.isolated
('focal', 'late_adulthood', True)
"""

from __future__ import annotations

from dataclasses import dataclass

from dystonia.anatomy import DEFAULT_ADJACENCY, Adjacency
from dystonia.classification.age import DEFAULT_AGE_BANDS, AgeBand, AgeBandBounds, age_at_onset_band
from dystonia.classification.axis1 import (
    AssociatedFeatures,
    TemporalPattern,
    associated_features,
    temporal_pattern,
)
from dystonia.classification.axis2 import AxisII, EtiologyCategory, axis_ii
from dystonia.classification.distribution import Distribution, body_distribution
from dystonia.classification.forms import FormResult, NamedForm, named_forms
from dystonia.classification.reasons import Reason
from dystonia.findings import Findings

CLASSIFICATION_VERSION = "2013"


@dataclass(frozen=True)
class Classification:
    """Axis I and axis II, the named forms, and a reason for every conclusion."""

    classification_version: str
    age_at_onset_band: AgeBand
    distribution: Distribution
    leg_involvement: bool | None
    temporal: TemporalPattern
    associated: AssociatedFeatures
    axis_ii: AxisII
    forms: tuple[FormResult, ...]
    reasons: tuple[Reason, ...]

    @property
    def isolated(self) -> bool:
        return self.associated.isolated

    @property
    def form_ids(self) -> tuple[NamedForm, ...]:
        return tuple(result.form for result in self.forms)


def classify(
    findings: Findings,
    *,
    adjacency: Adjacency = DEFAULT_ADJACENCY,
    age_bands: AgeBandBounds = DEFAULT_AGE_BANDS,
) -> Classification:
    """Classify one case by the 2013 consensus; the adjacency graph and the age-band bounds
    can be replaced where the reference leaves them open."""
    band, band_reason = age_at_onset_band(findings.age_at_onset_years, bounds=age_bands)
    distribution = body_distribution(findings.regions, adjacency=adjacency)
    temporal, temporal_reason = temporal_pattern(findings)
    associated, associated_reason = associated_features(findings)
    etiology, etiology_reasons = axis_ii(findings)
    forms = tuple(named_forms(findings, band=band, distribution=distribution.distribution))
    reasons = (
        band_reason,
        distribution.reason,
        temporal_reason,
        associated_reason,
        *etiology_reasons,
        *(form.reason for form in forms),
    )
    return Classification(
        classification_version=CLASSIFICATION_VERSION,
        age_at_onset_band=band,
        distribution=distribution.distribution,
        leg_involvement=distribution.leg_involvement,
        temporal=temporal,
        associated=associated,
        axis_ii=etiology,
        forms=forms,
        reasons=reasons,
    )


__all__ = [
    "CLASSIFICATION_VERSION",
    "AgeBand",
    "Classification",
    "Distribution",
    "EtiologyCategory",
    "NamedForm",
    "Reason",
    "classify",
]
