"""The patient timeline: every event of the clinical record in time order, newest first
(docs/clinical-record.md). Clinicians only; one audited read.

The timeline is a list of event sources (SOURCES), each one query over one table that returns
its events newest first. Later parts of the record (investigations, treatments, scores,
injections) join it by adding a source: nothing else changes. So the number of queries is the
number of sources asked for (at most len(SOURCES)), plus the audit entry, whatever the amount
of data: a source returns at most EVENTS_PER_SOURCE events, and when one is cut short the
timeline stops where that source stopped, so what is shown has no gaps (``complete_after``).

Each event has a moment (``at``) that orders it. Encounters are at their start, sent letters
at their sending, classification decisions at their decision; a diagnosis has a date only: recorded
on that day (the usual case, at the visit), it sits at the moment it was recorded; recorded
later for an earlier date, at the end of that day. An investigation's order and its result
are two events, each dated and placed the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from django.db.models import CharField, F, Q, Value
from django.urls import NoReverseMatch, reverse
from django.utils.timezone import localtime

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records.diagnoses import check_clinician, distribution_label
from clinic.records.models import (
    ClassificationReview,
    Diagnosis,
    Encounter,
    Investigation,
    InvestigationStatus,
    Letter,
    LetterStatus,
    Patient,
    ReviewDecision,
    VerificationStatus,
)
from clinic.scheduling.availability import clinic_tz
from dystonia.classification import NamedForm

EVENTS_PER_SOURCE = 500
# The dates a filter may name (operational bounds: nothing in the record is older).
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


class EventKind(StrEnum):
    """The kinds of event, in the order the filter offers them."""

    ENCOUNTER = "encounter"
    DIAGNOSIS = "diagnosis"
    LETTER = "letter"
    CLASSIFICATION = "classification"
    INVESTIGATION = "investigation"
    MEDICATION = "medication"
    THERAPY = "therapy"
    DBS = "dbs"
    SURGERY = "surgery"


EVENT_KIND_LABELS = {
    EventKind.ENCOUNTER: "Encounters",
    EventKind.DIAGNOSIS: "Diagnoses",
    EventKind.LETTER: "Letters sent",
    EventKind.CLASSIFICATION: "Classification decisions",
    EventKind.INVESTIGATION: "Investigations",
    EventKind.MEDICATION: "Medication",
    EventKind.THERAPY: "Therapy",
    EventKind.DBS: "Deep brain stimulation",
    EventKind.SURGERY: "Surgery",
}


@dataclass(frozen=True)
class TimelineEvent:
    """One event as the timeline shows it. ``at`` orders it; ``timed`` says whether its time
    of day means anything (a diagnosis has a date only); ``struck`` marks an entry made in
    error, kept and shown struck through."""

    kind: EventKind
    at: datetime
    timed: bool
    title: str
    detail: str
    url: str
    status: str = ""
    struck: bool = False

    @property
    def day(self) -> date:
        return self.at.astimezone(clinic_tz()).date()

    @property
    def year(self) -> int:
        return self.day.year


@dataclass(frozen=True)
class Window:
    """The dates asked for, inclusive, as local (Europe/London) days; None is open."""

    date_from: date | None = None
    date_to: date | None = None

    def start(self) -> datetime | None:
        day = self.date_from
        return datetime.combine(max(day, EARLIEST), time(0), clinic_tz()) if day else None

    def end(self) -> datetime | None:
        """The first moment after the window."""
        day = self.date_to
        if day is None:
            return None
        return datetime.combine(min(day, LATEST) + timedelta(days=1), time(0), clinic_tz())

    def moments(self, field: str) -> Q:
        """The filter for a datetime column."""
        q = Q()
        if (start := self.start()) is not None:
            q &= Q(**{f"{field}__gte": start})
        if (end := self.end()) is not None:
            q &= Q(**{f"{field}__lt": end})
        return q

    def days(self, field: str) -> Q:
        """The filter for a date column."""
        q = Q()
        if self.date_from is not None:
            q &= Q(**{f"{field}__gte": self.date_from})
        if self.date_to is not None:
            q &= Q(**{f"{field}__lte": self.date_to})
        return q


def _url(name: str, object_id: int, fallback: str = "") -> str:
    """A page's address; ``fallback`` when that page does not exist (yet)."""
    try:
        return reverse(name, args=[object_id])
    except NoReverseMatch:
        return fallback


def end_of_day(day: date) -> datetime:
    """The last moment of a local day: where a dated (untimed) event sits."""
    return datetime.combine(day, time.max, clinic_tz())


def _dated_moment(day: date, recorded_at: datetime) -> datetime:
    """Where an event with a date only sits (a diagnosis, an investigation's order or result):
    when it was recorded, if that was on its day; else at the end of that day."""
    if localtime(recorded_at, clinic_tz()).date() == day:
        return recorded_at
    return end_of_day(day)


def _diagnosis_moment(diagnosis: Diagnosis) -> datetime:
    """When a diagnosis sits on the timeline: when it was recorded, if that was on the day it
    was made; else at the end of that day."""
    return _dated_moment(diagnosis.diagnosed_on, diagnosis.recorded_at)


def _encounters(patient: Patient, window: Window, limit: int) -> list[TimelineEvent]:
    rows = (
        Encounter.objects.filter(window.moments("started_at"), patient=patient)
        .select_related("clinician", "site")
        .only("kind", "started_at", "signed_at", "clinician__full_name", "site__name")
        .order_by("-started_at", "-pk")[:limit]
    )
    return [
        TimelineEvent(
            kind=EventKind.ENCOUNTER,
            at=e.started_at,
            timed=True,
            title=e.get_kind_display(),
            detail=f"{e.clinician.full_name}, {e.site.name}",
            url=reverse("records:encounter-detail", args=[e.pk]),
            status="Signed" if e.is_signed else "Draft",
        )
        for e in rows
    ]


def _diagnoses(patient: Patient, window: Window, limit: int) -> list[TimelineEvent]:
    rows = (
        Diagnosis.objects.filter(window.days("diagnosed_on"), patient=patient)
        .only(
            "kind",
            "label",
            "clinical_status",
            "verification_status",
            "diagnosed_on",
            "recorded_at",
        )
        .order_by("-diagnosed_on", "-pk")[:limit]
    )
    return [
        TimelineEvent(
            kind=EventKind.DIAGNOSIS,
            at=_diagnosis_moment(d),
            timed=False,
            title=d.label,
            detail=d.get_kind_display(),
            url=reverse("records:diagnosis-detail", args=[d.pk]),
            status=f"{d.get_clinical_status_display()}, {d.get_verification_status_display()}",
            struck=d.verification_status == VerificationStatus.ENTERED_IN_ERROR,
        )
        for d in rows
    ]


def _addressed_to(letter: Letter) -> str:
    names = [
        name
        for name, sent in (
            ("the GP", letter.to_gp),
            ("the referrer", letter.to_referrer),
            ("the patient", letter.copy_to_patient),
        )
        if sent
    ]
    if not names:
        return ""
    return "To " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


def _letters(patient: Patient, window: Window, limit: int) -> list[TimelineEvent]:
    rows = (
        Letter.objects.filter(window.moments("sent_at"), patient=patient, status=LetterStatus.SENT)
        .select_related("sent_by")
        .only(
            "encounter_id",
            "to_gp",
            "to_referrer",
            "copy_to_patient",
            "created_at",
            "sent_at",
            "sent_by__full_name",
        )
        .order_by("-sent_at", "-pk")[:limit]
    )
    events = []
    for letter in rows:
        encounter_url = reverse("records:encounter-detail", args=[letter.encounter_id])
        sent_by = letter.sent_by.full_name if letter.sent_by else ""
        events.append(
            TimelineEvent(
                kind=EventKind.LETTER,
                at=letter.sent_at or letter.created_at,
                timed=True,
                title="Letter sent",
                detail="; ".join(part for part in (_addressed_to(letter), sent_by) if part),
                url=_url("records:letter-detail", letter.pk, fallback=encounter_url),
            )
        )
    return events


def _forms(review: ClassificationReview) -> str:
    labels = [NamedForm(f).label for f in review.forms.split() if f in {n.value for n in NamedForm}]
    return ", ".join(labels)


def _classifications(patient: Patient, window: Window, limit: int) -> list[TimelineEvent]:
    rows = (
        ClassificationReview.objects.filter(
            window.moments("decided_at"), encounter__patient=patient
        )
        .exclude(decision=ReviewDecision.PENDING)
        .select_related("decided_by")
        .only(
            "encounter_id",
            "distribution",
            "forms",
            "decision",
            "clinician_distribution",
            "created_at",
            "decided_at",
            "decided_by__full_name",
        )
        .order_by("-decided_at", "-pk")[:limit]
    )
    events = []
    for review in rows:
        overridden = review.decision == ReviewDecision.OVERRIDDEN
        if overridden:
            title = f"Classification overridden: {distribution_label(review.final_distribution)}"
            detail = f"The core had {distribution_label(review.distribution).lower()}"
        else:
            title = f"Classification confirmed: {distribution_label(review.distribution)}"
            detail = _forms(review)
        decided_by = review.decided_by.full_name if review.decided_by else ""
        events.append(
            TimelineEvent(
                kind=EventKind.CLASSIFICATION,
                at=review.decided_at or review.created_at,
                timed=True,
                title=title,
                detail="; ".join(part for part in (detail, decided_by) if part),
                url=reverse("records:encounter-detail", args=[review.encounter_id]),
            )
        )
    return events


ORDERED, RESULTED = "ordered", "resulted"
# What each investigation event carries, in the same order on both sides of the UNION.
INVESTIGATION_COLUMNS = (
    "kind",
    "name",
    "status",
    "flag",
    "value",
    "unit",
    "entered_value",
    "entered_unit",
    "kf_rings",
    "gene",
    "variant",
    "variant_classification",
    "levodopa_dose_mg_per_day",
    "levodopa_duration_days",
    "levodopa_response",
)
INVESTIGATION_STATUS = {
    InvestigationStatus.ORDERED: "Awaiting the result",
    InvestigationStatus.RESULTED: "Resulted",
    InvestigationStatus.CANCELLED: "Cancelled",
}


def _investigations(patient: Patient, window: Window, limit: int) -> list[TimelineEvent]:
    """Each investigation's order, and its result once it has one, in one query (a UNION),
    ordered as the timeline orders dated events: by day, then by when they were recorded."""

    def side(event: str, day: str, recorded: str, by: str, *only: Q) -> Any:
        return (
            Investigation.objects.filter(window.days(day), *only, patient=patient)
            .annotate(
                event_id=F("pk"),
                event=Value(event, output_field=CharField()),
                day=F(day),
                recorded=F(recorded),
                by=F(by),
            )
            .values_list("event_id", "event", "day", "recorded", "by", *INVESTIGATION_COLUMNS)
            .order_by()  # the model's default ordering is not allowed inside a UNION
        )

    ordered = side(ORDERED, "ordered_on", "ordered_at", "ordered_by__full_name")
    has_result = Q(status=InvestigationStatus.RESULTED, resulted_at__isnull=False)
    resulted = side(RESULTED, "resulted_on", "resulted_at", "resulted_by__full_name", has_result)
    rows = ordered.union(resulted, all=True).order_by("-day", "-recorded", "-event_id")[:limit]
    return [_investigation_event(row) for row in rows]


def _investigation_event(row: tuple[Any, ...]) -> TimelineEvent:
    pk, event, day, recorded, by, *values = row
    shown = Investigation(pk=pk, **dict(zip(INVESTIGATION_COLUMNS, values, strict=True)))
    if event == RESULTED:
        flagged = shown.flag in {"low", "high"}
        title = f"{shown.title}: result"
        detail = "; ".join(part for part in (shown.result_summary, str(by or "")) if part)
        status = shown.get_flag_display() if flagged else ""
    else:
        title = f"{shown.title}: ordered"
        detail = str(by or "")
        status = INVESTIGATION_STATUS.get(InvestigationStatus(shown.status), "")
    return TimelineEvent(
        kind=EventKind.INVESTIGATION,
        at=_dated_moment(day, recorded),
        timed=False,
        title=title,
        detail=detail,
        url=reverse("records:investigation-detail", args=[pk]),
        status=status,
    )


@dataclass(frozen=True)
class EventSource:
    """One kind of event: a function that returns the patient's events of that kind in the
    window, newest first, at most ``limit`` of them, in one query."""

    kind: EventKind
    fetch: Callable[[Patient, Window, int], list[TimelineEvent]]


# The record's own sources; other apps (treatment) add theirs with register_source() from
# their AppConfig.ready(), so records never imports them.
SOURCES: list[EventSource] = [
    EventSource(EventKind.ENCOUNTER, _encounters),
    EventSource(EventKind.DIAGNOSIS, _diagnoses),
    EventSource(EventKind.LETTER, _letters),
    EventSource(EventKind.CLASSIFICATION, _classifications),
    EventSource(EventKind.INVESTIGATION, _investigations),
]


def register_source(source: EventSource) -> None:
    """Add an event source (once; a second registration of the same kind replaces it, so a
    reloaded app does not show its events twice)."""
    SOURCES[:] = [known for known in SOURCES if known.kind != source.kind]
    SOURCES.append(source)


def kind_choices() -> list[tuple[str, str]]:
    """The kinds a filter offers: those with a source, in EventKind order."""
    known = {source.kind for source in SOURCES}
    return [(kind.value, EVENT_KIND_LABELS[kind]) for kind in EventKind if kind in known]


@dataclass(frozen=True)
class Timeline:
    """The events, newest first. ``complete_after`` is set when a source had more events
    than it returns: only events after that moment are shown, and all of them are."""

    events: list[TimelineEvent]
    complete_after: datetime | None = None


def merge(batches: list[tuple[list[TimelineEvent], bool]]) -> Timeline:
    """Merge each source's events (newest first, and whether it was cut short) into one
    timeline, newest first, with nothing missing after the earliest complete moment."""
    cutoffs = [min(e.at for e in events) for events, cut in batches if cut and events]
    complete_after = max(cutoffs) if cutoffs else None
    merged = [e for events, _cut in batches for e in events]
    if complete_after is not None:
        merged = [e for e in merged if e.at > complete_after]
    # Stable, so events at the same moment keep their source's order.
    merged.sort(key=lambda event: event.at, reverse=True)
    return Timeline(events=merged, complete_after=complete_after)


def timeline_of_patient(
    *,
    context: AuditContext,
    patient: Patient,
    kinds: frozenset[EventKind] | None = None,
    window: Window | None = None,
) -> Timeline:
    """The patient's events of ``kinds`` (all when None) in ``window``, newest first:
    one query per kind asked for, and one audit entry. Clinicians only (AccessRefused,
    audited: 403 for other staff, 404 for patients)."""
    check_clinician(context, patient, AuditAction.READ)
    window = window or Window()
    batches = []
    for source in SOURCES:
        if kinds is not None and source.kind not in kinds:
            continue
        events = source.fetch(patient, window, EVENTS_PER_SOURCE + 1)
        batches.append((events[:EVENTS_PER_SOURCE], len(events) > EVENTS_PER_SOURCE))
    timeline = merge(batches)
    detail = f"timeline read: {len(timeline.events)} events"
    audit_object(context, AuditAction.READ, None, patient, detail, object_type="timeline")
    return timeline
