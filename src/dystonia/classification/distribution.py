"""Axis I: body distribution, by the derivation order of shared/reference/clinical.md 1.3.

1. one region: focal; 2. trunk and at least two other regions: generalized (with or without
leg involvement); 3. upper and lower limb of one side and no limb of the other: hemidystonia;
4. all regions connected under the adjacency graph: segmental; 5. otherwise multifocal.
The order is a design choice recommended by the reference, not the consensus itself.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from dystonia import sources
from dystonia.anatomy import DEFAULT_ADJACENCY, Adjacency, BodySite, Evidence, Region, Side
from dystonia.classification.reasons import Reason


class Distribution(StrEnum):
    """The body distributions of the 2013 consensus."""

    FOCAL = "focal"
    SEGMENTAL = "segmental"
    MULTIFOCAL = "multifocal"
    GENERALIZED = "generalized"
    HEMIDYSTONIA = "hemidystonia"


@dataclass(frozen=True)
class DistributionResult:
    """The distribution, leg involvement (generalized only, else ``None``) and the reason."""

    distribution: Distribution
    leg_involvement: bool | None
    reason: Reason


def _names(sites: Collection[BodySite]) -> str:
    labels = [site.label for site in sorted(sites)]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _conventions(sites: Collection[BodySite], adjacency: Adjacency) -> str:
    """Names the edges between involved sites that rest on convention, not a published example."""
    pairs = sorted(
        f"{edge.a.label} with {edge.b.label}"
        for edge in adjacency.edges
        if edge.a in sites and edge.b in sites and edge.evidence is Evidence.CONVENTION
    )
    return f" (by convention: {'; '.join(pairs)})" if pairs else ""


def _hemidystonia_side(sites: Collection[BodySite]) -> Side | None:
    sides = {site.side for site in sites if site.side is not None}
    if len(sides) != 1:
        return None
    side = sides.pop()
    has_arm = BodySite(Region.UPPER_LIMB, side) in sites
    has_leg = BodySite(Region.LOWER_LIMB, side) in sites
    return side if has_arm and has_leg else None


def body_distribution(
    sites: Collection[BodySite], *, adjacency: Adjacency = DEFAULT_ADJACENCY
) -> DistributionResult:
    """The body distribution of a set of involved sites (at least one).

    >>> body_distribution({BodySite(Region.NECK)}).distribution.value
    'focal'
    """
    source = sources.ALBANESE_2013
    if len(sites) == 1:
        text = f"focal: only one region is involved ({_names(sites)})"
        return DistributionResult(Distribution.FOCAL, None, Reason("distribution", text, source))
    others = [site for site in sites if site.region is not Region.TRUNK]
    if any(site.region is Region.TRUNK for site in sites) and len(others) >= 2:
        legs = any(site.region is Region.LOWER_LIMB for site in sites)
        text = (
            f"generalized: the trunk and {len(others)} other regions are involved "
            f"({_names(others)}), {'with' if legs else 'without'} leg involvement"
        )
        reason = Reason("distribution", text, f"{source}; {sources.GENEREVIEWS_DYSTONIA}")
        return DistributionResult(Distribution.GENERALIZED, legs, reason)
    side = _hemidystonia_side(sites)
    if side is not None:
        text = (
            f"hemidystonia: the {side.value} upper and lower limbs are involved and no limb "
            "on the other side"
        )
        reason = Reason("distribution", text, f"{source}; {sources.GENEREVIEWS_DYSTONIA}")
        return DistributionResult(Distribution.HEMIDYSTONIA, None, reason)
    if adjacency.is_connected(sites):
        text = f"segmental: {_names(sites)} are contiguous{_conventions(sites, adjacency)}"
        reason = Reason("distribution", text, f"{source}; {sources.PROJECT_DECISION}")
        return DistributionResult(Distribution.SEGMENTAL, None, reason)
    text = f"multifocal: {_names(sites)} are not all contiguous"
    reason = Reason("distribution", text, f"{source}; {sources.DYSTONIA_UK_GPG}")
    return DistributionResult(Distribution.MULTIFOCAL, None, reason)
