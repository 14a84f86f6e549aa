"""Axis I: the age-at-onset band (Albanese 2013; shared/reference/clinical.md 1.2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dystonia import sources
from dystonia.classification.reasons import Reason


class AgeBand(StrEnum):
    """The five age-at-onset bands of the 2013 consensus."""

    INFANCY = "infancy"
    CHILDHOOD = "childhood"
    ADOLESCENCE = "adolescence"
    EARLY_ADULTHOOD = "early_adulthood"
    LATE_ADULTHOOD = "late_adulthood"


@dataclass(frozen=True)
class AgeBandBounds:
    """First year (completed years) of each band after infancy; configurable because the
    40/41 edge is reported inconsistently (clinical.md 1.2)."""

    childhood_from: int = 3
    adolescence_from: int = 13
    early_adulthood_from: int = 21
    late_adulthood_from: int = 41


# Albanese 2013 via GeneReviews and Dystonia UK: 0-2, 3-12, 13-20, 21-40, over 40.
DEFAULT_AGE_BANDS = AgeBandBounds()


def age_at_onset_band(
    age_at_onset_years: int, *, bounds: AgeBandBounds = DEFAULT_AGE_BANDS
) -> tuple[AgeBand, Reason]:
    """The band for an age at onset in completed years.

    >>> age_at_onset_band(40)[0].value
    'early_adulthood'
    """
    if age_at_onset_years >= bounds.late_adulthood_from:
        band, limits = AgeBand.LATE_ADULTHOOD, f"{bounds.late_adulthood_from} years and over"
    elif age_at_onset_years >= bounds.early_adulthood_from:
        band = AgeBand.EARLY_ADULTHOOD
        limits = f"{bounds.early_adulthood_from}-{bounds.late_adulthood_from - 1} years"
    elif age_at_onset_years >= bounds.adolescence_from:
        band = AgeBand.ADOLESCENCE
        limits = f"{bounds.adolescence_from}-{bounds.early_adulthood_from - 1} years"
    elif age_at_onset_years >= bounds.childhood_from:
        band = AgeBand.CHILDHOOD
        limits = f"{bounds.childhood_from}-{bounds.adolescence_from - 1} years"
    else:
        band, limits = AgeBand.INFANCY, f"0-{bounds.childhood_from - 1} years"
    text = (
        f"{band.value.replace('_', ' ')}: onset at {age_at_onset_years} completed years "
        f"falls in the band {limits}"
    )
    return band, Reason("age_at_onset_band", text, sources.ALBANESE_2013)
