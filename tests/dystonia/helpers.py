"""Small builders for core tests. All findings are made up."""

from __future__ import annotations

from dystonia.anatomy import BodySite, Region, Side
from dystonia.findings import Findings

NECK = BodySite(Region.NECK)
TRUNK = BodySite(Region.TRUNK)
UPPER_FACE = BodySite(Region.UPPER_FACE)
LOWER_FACE = BodySite(Region.LOWER_FACE)
JAW = BodySite(Region.JAW_TONGUE)
LARYNX = BodySite(Region.LARYNX)
L_ARM = BodySite(Region.UPPER_LIMB, Side.LEFT)
R_ARM = BodySite(Region.UPPER_LIMB, Side.RIGHT)
L_LEG = BodySite(Region.LOWER_LIMB, Side.LEFT)
R_LEG = BodySite(Region.LOWER_LIMB, Side.RIGHT)


def findings(*sites: BodySite, age: int = 45, **fields: object) -> Findings:
    return Findings(age_at_onset_years=age, regions=frozenset(sites), **fields)  # type: ignore[arg-type]
