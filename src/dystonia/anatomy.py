"""Body regions used to classify dystonia, which of them are contiguous, and how they map to
the regions of the BFMDRS movement scale.

The 2013 consensus gives examples of contiguous regions but no adjacency graph, so every edge
here says whether a published example backs it or it is a convention, and the whole graph can
be replaced (shared/reference/clinical.md 1.4).

>>> are_contiguous(BodySite(Region.NECK), BodySite(Region.UPPER_LIMB, Side.RIGHT))
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from itertools import combinations

from dystonia import sources
from dystonia.errors import InvalidInput


class Region(StrEnum):
    """A body region of the classification."""

    UPPER_FACE = "upper_face"
    LOWER_FACE = "lower_face"
    JAW_TONGUE = "jaw_tongue"
    LARYNX = "larynx"
    NECK = "neck"
    TRUNK = "trunk"
    UPPER_LIMB = "upper_limb"
    LOWER_LIMB = "lower_limb"

    @property
    def has_side(self) -> bool:
        """Only the limbs are recorded with a side."""
        return self in SIDED_REGIONS

    @property
    def is_cranial(self) -> bool:
        return self in CRANIAL_REGIONS

    @property
    def label(self) -> str:
        return REGION_LABELS[self]


class Side(StrEnum):
    """The side of a limb."""

    LEFT = "left"
    RIGHT = "right"

    @property
    def opposite(self) -> Side:
        return Side.RIGHT if self is Side.LEFT else Side.LEFT


SIDED_REGIONS = frozenset({Region.UPPER_LIMB, Region.LOWER_LIMB})
CRANIAL_REGIONS = frozenset(
    {Region.UPPER_FACE, Region.LOWER_FACE, Region.JAW_TONGUE, Region.LARYNX}
)
REGION_LABELS = {
    Region.UPPER_FACE: "upper face (eyes)",
    Region.LOWER_FACE: "lower face (mouth)",
    Region.JAW_TONGUE: "jaw and tongue",
    Region.LARYNX: "larynx",
    Region.NECK: "neck",
    Region.TRUNK: "trunk",
    Region.UPPER_LIMB: "upper limb",
    Region.LOWER_LIMB: "lower limb",
}


@dataclass(frozen=True, order=True)
class BodySite:
    """One involved region, with its side for a limb (``None`` otherwise)."""

    region: Region
    side: Side | None = None

    def __post_init__(self) -> None:
        if self.region.has_side and self.side is None:
            raise InvalidInput(field="side", value=None, allowed="'left' or 'right' for a limb")
        if not self.region.has_side and self.side is not None:
            raise InvalidInput(
                field="side", value=str(self.side), allowed=f"no side for {self.region.value}"
            )

    @property
    def label(self) -> str:
        """Readable name, e.g. 'right upper limb'."""
        return f"{self.side.value} {self.region.label}" if self.side else self.region.label

    def mirrored(self) -> BodySite:
        """The same region on the other side (unchanged for regions without a side)."""
        return BodySite(self.region, self.side.opposite) if self.side else self


class Evidence(StrEnum):
    """Why an adjacency edge exists."""

    PUBLISHED_EXAMPLE = "published_example"
    CONVENTION = "convention"


@dataclass(frozen=True)
class AdjacencyEdge:
    """Two regions treated as contiguous, with what backs that."""

    a: BodySite
    b: BodySite
    evidence: Evidence
    note: str

    def joins(self, first: BodySite, second: BodySite) -> bool:
        return {first, second} == {self.a, self.b}


@dataclass(frozen=True)
class Adjacency:
    """A contiguity graph over body sites; replaceable, since every edge is configurable."""

    edges: tuple[AdjacencyEdge, ...]

    def edge(self, first: BodySite, second: BodySite) -> AdjacencyEdge | None:
        """The edge joining two sites, or ``None``."""
        return next((edge for edge in self.edges if edge.joins(first, second)), None)

    def without(self, *pairs: tuple[BodySite, BodySite]) -> Adjacency:
        """A copy without the edges joining the given pairs."""
        kept = tuple(e for e in self.edges if not any(e.joins(a, b) for a, b in pairs))
        return Adjacency(edges=kept)

    def is_connected(self, sites: Iterable[BodySite]) -> bool:
        """True when every site can be reached from every other through contiguous sites
        that are themselves involved."""
        remaining = set(sites)
        if not remaining:
            return False
        frontier = [remaining.pop()]
        while frontier:
            current = frontier.pop()
            reached = {site for site in remaining if self.edge(current, site) is not None}
            remaining -= reached
            frontier.extend(reached)
        return not remaining


def _site(region: Region, side: Side | None = None) -> BodySite:
    return BodySite(region, side)


def _default_edges() -> tuple[AdjacencyEdge, ...]:
    ex, conv = Evidence.PUBLISHED_EXAMPLE, Evidence.CONVENTION
    edges: list[AdjacencyEdge] = []
    # Cranial regions: all contiguous with one another (project decision; blepharospasm with
    # oromandibular dystonia is the consensus example of cranial segmental dystonia).
    published_cranial = {
        frozenset({Region.UPPER_FACE, Region.LOWER_FACE}),
        frozenset({Region.LOWER_FACE, Region.JAW_TONGUE}),
    }
    for first, second in combinations(sorted(CRANIAL_REGIONS), 2):
        if frozenset({first, second}) in published_cranial:
            note = f"{sources.ALBANESE_2013}; {sources.DYSTONIA_UK_GPG}: cranial segmental"
            edges.append(AdjacencyEdge(_site(first), _site(second), ex, note))
        else:
            note = f"{sources.PROJECT_DECISION}: the four cranial regions are all contiguous"
            edges.append(AdjacencyEdge(_site(first), _site(second), conv, note))
    # Neck with each cranial region: "cranial + cervical" is a consensus example; the
    # cranio-cervical example includes the larynx (Dystonia UK).
    for cranial in sorted(CRANIAL_REGIONS):
        note = f"{sources.ALBANESE_2013}; {sources.DYSTONIA_UK_GPG}: cranial + cervical"
        edges.append(AdjacencyEdge(_site(cranial), _site(Region.NECK), ex, note))
    for side in Side:
        arm, leg = _site(Region.UPPER_LIMB, side), _site(Region.LOWER_LIMB, side)
        note = f"{sources.ALBANESE_2013}: cervical + upper limb"
        edges.append(AdjacencyEdge(_site(Region.NECK), arm, ex, note))
        edges.append(AdjacencyEdge(_site(Region.TRUNK), arm, conv, "clinical convention"))
        edges.append(AdjacencyEdge(_site(Region.TRUNK), leg, conv, "clinical convention"))
    edges.append(
        AdjacencyEdge(_site(Region.NECK), _site(Region.TRUNK), conv, "clinical convention")
    )
    edges.append(
        AdjacencyEdge(
            _site(Region.UPPER_LIMB, Side.LEFT),
            _site(Region.UPPER_LIMB, Side.RIGHT),
            conv,
            "convention: bibrachial dystonia counted as segmental (UNVERIFIED in the reference)",
        )
    )
    edges.append(
        AdjacencyEdge(
            _site(Region.LOWER_LIMB, Side.LEFT),
            _site(Region.LOWER_LIMB, Side.RIGHT),
            conv,
            "convention: both legs counted as segmental (UNVERIFIED in the reference)",
        )
    )
    return tuple(edges)


# shared/reference/clinical.md 1.4, with the cranial decision of docs/clinical-rules.md.
DEFAULT_ADJACENCY = Adjacency(edges=_default_edges())


def are_contiguous(
    first: BodySite, second: BodySite, *, adjacency: Adjacency = DEFAULT_ADJACENCY
) -> bool:
    """True when the two sites are contiguous under the adjacency graph."""
    return adjacency.edge(first, second) is not None


class BfmdrsRegion(StrEnum):
    """The nine regions of the BFMDRS movement scale (Burke 1985; NINDS CDE)."""

    EYES = "eyes"
    MOUTH = "mouth"
    SPEECH_AND_SWALLOWING = "speech_and_swallowing"
    NECK = "neck"
    RIGHT_ARM = "right_arm"
    LEFT_ARM = "left_arm"
    TRUNK = "trunk"
    RIGHT_LEG = "right_leg"
    LEFT_LEG = "left_leg"


def bfmdrs_region(site: BodySite) -> BfmdrsRegion:
    """The BFMDRS movement-scale region a body site is rated under.

    The jaw and tongue are rated with the mouth, and the larynx under speech and swallowing
    (project mapping, docs/clinical-rules.md).
    """
    fixed = {
        Region.UPPER_FACE: BfmdrsRegion.EYES,
        Region.LOWER_FACE: BfmdrsRegion.MOUTH,
        Region.JAW_TONGUE: BfmdrsRegion.MOUTH,
        Region.LARYNX: BfmdrsRegion.SPEECH_AND_SWALLOWING,
        Region.NECK: BfmdrsRegion.NECK,
        Region.TRUNK: BfmdrsRegion.TRUNK,
    }
    if site.region in fixed:
        return fixed[site.region]
    limb = "arm" if site.region is Region.UPPER_LIMB else "leg"
    side = site.side.value if site.side else ""
    return BfmdrsRegion(f"{side}_{limb}")


ALL_BODY_SITES: tuple[BodySite, ...] = tuple(
    BodySite(region, side)
    for region in Region
    for side in ((Side.LEFT, Side.RIGHT) if region.has_side else (None,))
)
