"""Body regions, sides, adjacency (clinical.md 1.4 plus the cranial decision) and BFMDRS."""

from __future__ import annotations

from itertools import combinations

import pytest

from dystonia.anatomy import (
    ALL_BODY_SITES,
    CRANIAL_REGIONS,
    DEFAULT_ADJACENCY,
    BfmdrsRegion,
    BodySite,
    Evidence,
    Region,
    Side,
    are_contiguous,
    bfmdrs_region,
)
from dystonia.errors import InvalidInput
from tests.dystonia.helpers import (
    JAW,
    L_ARM,
    L_LEG,
    LARYNX,
    LOWER_FACE,
    NECK,
    R_ARM,
    R_LEG,
    TRUNK,
    UPPER_FACE,
)


def test_the_region_identifiers_are_the_eight_of_the_classification():
    assert [r.value for r in Region] == [
        "upper_face",
        "lower_face",
        "jaw_tongue",
        "larynx",
        "neck",
        "trunk",
        "upper_limb",
        "lower_limb",
    ]


def test_only_limbs_take_a_side():
    assert {r for r in Region if r.has_side} == {Region.UPPER_LIMB, Region.LOWER_LIMB}
    assert len(ALL_BODY_SITES) == 10


def test_a_limb_without_a_side_is_refused():
    with pytest.raises(InvalidInput, match="side"):
        BodySite(Region.UPPER_LIMB)


def test_a_side_on_the_neck_is_refused():
    with pytest.raises(InvalidInput, match="no side for neck"):
        BodySite(Region.NECK, Side.LEFT)


@pytest.mark.parametrize(("a", "b"), list(combinations(sorted(CRANIAL_REGIONS), 2)))
def test_the_four_cranial_regions_are_all_contiguous(a, b):
    assert are_contiguous(BodySite(a), BodySite(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (UPPER_FACE, LOWER_FACE),  # blepharospasm + oromandibular: cranial segmental
        (LOWER_FACE, JAW),
        (UPPER_FACE, NECK),  # cranial + cervical
        (LOWER_FACE, NECK),
        (JAW, NECK),
        (LARYNX, NECK),  # cranio-cervical including the larynx (Dystonia UK)
        (NECK, L_ARM),  # cervical + upper limb
        (NECK, R_ARM),
    ],
)
def test_edges_backed_by_published_examples(a, b):
    edge = DEFAULT_ADJACENCY.edge(a, b)

    assert edge is not None
    assert edge.evidence is Evidence.PUBLISHED_EXAMPLE


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (NECK, TRUNK),
        (TRUNK, L_ARM),
        (TRUNK, R_LEG),
        (L_ARM, R_ARM),  # bibrachial: UNVERIFIED in the reference
        (L_LEG, R_LEG),
        (UPPER_FACE, JAW),  # the project's cranial decision
        (LOWER_FACE, LARYNX),
    ],
)
def test_edges_that_are_convention(a, b):
    edge = DEFAULT_ADJACENCY.edge(a, b)

    assert edge is not None
    assert edge.evidence is Evidence.CONVENTION
    assert edge.note


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (L_ARM, L_LEG),  # upper + lower limb: multifocal example (Dystonia UK)
        (R_ARM, L_LEG),
        (UPPER_FACE, R_ARM),  # cranial + upper limb: multifocal example
        (LARYNX, L_ARM),
        (NECK, L_LEG),
        (UPPER_FACE, TRUNK),
    ],
)
def test_explicitly_non_contiguous_pairs(a, b):
    assert not are_contiguous(a, b)


def test_contiguity_is_symmetric_for_every_pair():
    for a, b in combinations(ALL_BODY_SITES, 2):
        assert are_contiguous(a, b) == are_contiguous(b, a)


def test_an_edge_can_be_removed_by_configuration():
    without_bibrachial = DEFAULT_ADJACENCY.without((L_ARM, R_ARM))

    assert not are_contiguous(L_ARM, R_ARM, adjacency=without_bibrachial)
    assert are_contiguous(NECK, L_ARM, adjacency=without_bibrachial)


@pytest.mark.parametrize(
    ("site", "region"),
    [
        (UPPER_FACE, BfmdrsRegion.EYES),
        (LOWER_FACE, BfmdrsRegion.MOUTH),
        (JAW, BfmdrsRegion.MOUTH),
        (LARYNX, BfmdrsRegion.SPEECH_AND_SWALLOWING),
        (NECK, BfmdrsRegion.NECK),
        (TRUNK, BfmdrsRegion.TRUNK),
        (L_ARM, BfmdrsRegion.LEFT_ARM),
        (R_ARM, BfmdrsRegion.RIGHT_ARM),
        (L_LEG, BfmdrsRegion.LEFT_LEG),
        (R_LEG, BfmdrsRegion.RIGHT_LEG),
    ],
)
def test_every_site_maps_to_one_of_the_nine_bfmdrs_regions(site, region):
    assert bfmdrs_region(site) is region
    assert len(BfmdrsRegion) == 9
