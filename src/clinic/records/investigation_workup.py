"""The work-up advisor beside the patient's investigations: the core's advice
(dystonia.workup.workup_for) for the current classification, with each investigation it
advises marked not yet ordered, ordered (awaiting its result) or resulted.

The current classification is the patient's latest decided classification review (confirmed
or overridden, at any encounter): its findings document is read back by the core and
classified again, so the advice is the core's for exactly the findings the clinician decided
on. No rule lives here; this module only matches the advice with what was ordered.

A cause stays "still to be excluded" while any of its investigations has no result. Once all
have results it is never marked excluded here: the results are shown with the core's reading
(a normal caeruloplasmin says it does not exclude Wilson disease) and the clinician judges.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from clinic.records.models import (
    ClassificationReview,
    Investigation,
    InvestigationKind,
    InvestigationStatus,
    Patient,
    ReviewDecision,
)
from dystonia import workup as core
from dystonia.classification import classify
from dystonia.errors import InvalidDocument, InvalidInput
from dystonia.findings import findings_from_document

NO_DECIDED_CLASSIFICATION = (
    "No classification has been confirmed or overridden yet: decide one at an encounter to see "
    "the work-up advice."
)
UNREADABLE_FINDINGS = (
    "The findings of the latest decided classification cannot be read by the work-up advice: "
    "check the examination and history of that encounter."
)
STILL_TO_EXCLUDE = "Still to be excluded: {count} of its investigations {verb} no result yet."
OUTSTANDING = "Outstanding: {count} of its investigations {verb} no result yet."
ALL_RESULTED = (
    "Every investigation advised has a result. The advice does not mark a cause excluded: read "
    "each result below and judge."
)
WILSON_RESULTED = (
    "Every investigation advised has a result. No result excludes Wilson disease on its own "
    "(a normal caeruloplasmin does not): read each result below and judge."
)
ADVICE_ONLY = "Advice only: nothing to order here."
OVERRIDDEN_NOTE = (
    "This classification was overridden; the advice follows the core's reading of the same "
    "findings."
)

# The core's investigations (dystonia.workup) and what is ordered for each; the first kind
# is the one ordered, any of them counts as done (an MRI, or a CT if calcification is
# suspected).
KINDS_OF: dict[core.Investigation, tuple[InvestigationKind, ...]] = {
    core.CAERULOPLASMIN: (InvestigationKind.CAERULOPLASMIN,),
    core.URINARY_COPPER: (InvestigationKind.URINARY_COPPER_24H,),
    core.SLIT_LAMP: (InvestigationKind.SLIT_LAMP,),
    core.MRI_BRAIN: (InvestigationKind.MRI, InvestigationKind.CT),
    core.LEVODOPA_TRIAL: (InvestigationKind.LEVODOPA_TRIAL,),
}
GENETIC_ITEM = "genetic_testing"
WILSON_ITEM = "wilson_disease"


class LineState(StrEnum):
    """Where an advised investigation stands."""

    NOT_ORDERED = "not_ordered"
    ORDERED = "ordered"
    RESULTED = "resulted"
    ADVICE = "advice"  # nothing to order (a review of the drug history)


STATE_LABELS = {
    LineState.NOT_ORDERED: "Not yet ordered",
    LineState.ORDERED: "Ordered, awaiting the result",
    LineState.RESULTED: "Resulted",
    LineState.ADVICE: "Advice",
}


@dataclass(frozen=True)
class AdviceLine:
    """One investigation the core advises, and the order that answers it (if any).
    ``key`` names it for the "Order" button: the kind, and for a genetic test its name."""

    key: str
    name: str
    interpretation: str
    source: str
    kind: InvestigationKind | None
    order_name: str
    state: LineState
    investigation: Investigation | None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def orderable(self) -> bool:
        return self.state is LineState.NOT_ORDERED


@dataclass(frozen=True)
class AdviceItem:
    """A cause to exclude or a question to answer, and where its investigations stand."""

    id: str
    title: str
    reason: str
    lines: list[AdviceLine]

    @property
    def is_cause(self) -> bool:
        """A treatable cause to exclude ("Exclude Wilson disease"), not a question."""
        return self.title.startswith("Exclude")

    @property
    def outstanding(self) -> list[AdviceLine]:
        """The investigations to order or awaiting a result."""
        waiting = (LineState.NOT_ORDERED, LineState.ORDERED)
        return [line for line in self.lines if line.state in waiting]

    @property
    def status(self) -> str:
        if self.outstanding:
            count = len(self.outstanding)
            text = STILL_TO_EXCLUDE if self.is_cause else OUTSTANDING
            return text.format(count=count, verb="has" if count == 1 else "have")
        if not any(line.kind for line in self.lines):
            return ADVICE_ONLY
        return WILSON_RESULTED if self.id == WILSON_ITEM else ALL_RESULTED


@dataclass(frozen=True)
class WorkupAdvice:
    """The advice for the current classification (``review``), or why there is none
    (``missing``)."""

    review: ClassificationReview | None
    red_flags: list[str]
    items: list[AdviceItem]
    note: str
    missing: str

    @property
    def outstanding(self) -> int:
        return sum(len(item.outstanding) for item in self.items)

    @property
    def overridden(self) -> bool:
        return self.review is not None and self.review.decision == ReviewDecision.OVERRIDDEN

    @property
    def override_note(self) -> str:
        return OVERRIDDEN_NOTE if self.overridden else ""


def latest_decided_review(patient: Patient) -> ClassificationReview | None:
    """The patient's latest confirmed or overridden classification review (one query)."""
    return (
        ClassificationReview.objects.filter(encounter__patient=patient)
        .exclude(decision=ReviewDecision.PENDING)
        .select_related("encounter")
        .order_by("-decided_at", "-pk")
        .first()
    )


def _genetic_name(investigation: core.Investigation) -> str:
    # "TOR1A (DYT1) testing: limb involvement ..." is ordered as "TOR1A (DYT1) testing".
    return investigation.name.split(":", 1)[0].strip()


def _answer(
    kinds: tuple[InvestigationKind, ...], name: str, ordered: list[Investigation]
) -> tuple[LineState, Investigation | None]:
    """The latest result among the matching orders, else the latest open order."""
    matching = [
        row
        for row in ordered
        if row.kind in kinds and (not name or row.name == name)
        if row.status != InvestigationStatus.CANCELLED
    ]
    for state, status in (
        (LineState.RESULTED, InvestigationStatus.RESULTED),
        (LineState.ORDERED, InvestigationStatus.ORDERED),
    ):
        found = [row for row in matching if row.status == status]
        if found:
            return state, max(found, key=lambda row: (row.ordered_on, row.pk))
    return LineState.NOT_ORDERED, None


def _line(
    item: core.WorkupItem, advised: core.Investigation, ordered: list[Investigation]
) -> AdviceLine:
    genetic = item.id == GENETIC_ITEM
    kinds = (InvestigationKind.GENETIC_PANEL,) if genetic else KINDS_OF.get(advised, ())
    name = _genetic_name(advised) if genetic else ""
    if not kinds:
        state, found = LineState.ADVICE, None
    else:
        state, found = _answer(kinds, name, ordered)
    kind = kinds[0] if kinds else None
    return AdviceLine(
        key=f"{kind.value}:{name}" if kind else "",
        name=advised.name,
        interpretation=advised.interpretation,
        source=advised.source,
        kind=kind,
        order_name=name,
        state=state,
        investigation=found,
    )


def advice_for(
    review: ClassificationReview | None, investigations: Iterable[Investigation]
) -> WorkupAdvice:
    """The core's work-up for the review's findings, matched with the patient's
    investigations (no query)."""
    if review is None:
        return WorkupAdvice(None, [], [], "", NO_DECIDED_CLASSIFICATION)
    try:
        findings = findings_from_document(review.findings)
        workup = core.workup_for(findings, classify(findings))
    except (InvalidDocument, InvalidInput):
        return WorkupAdvice(review, [], [], "", UNREADABLE_FINDINGS)
    ordered = list(investigations)
    items = [
        AdviceItem(
            id=item.id,
            title=item.title,
            reason=item.reason,
            lines=[_line(item, advised, ordered) for advised in item.investigations],
        )
        for item in workup.items
    ]
    flags = [flag.text[:1].upper() + flag.text[1:] for flag in workup.red_flags]
    return WorkupAdvice(review, flags, items, workup.note, "")


def find_line(advice: WorkupAdvice, item_id: str, key: str) -> AdviceLine | None:
    """The advised investigation ``key`` of item ``item_id``, if the advice still has it."""
    for item in advice.items:
        if item.id != item_id:
            continue
        for line in item.lines:
            if line.key == key and line.kind is not None:
                return line
    return None
