"""The treatment app's event sources for the patient timeline (records/timeline.py), registered
from TreatmentConfig.ready(): one query each, newest first, at most ``limit`` events, so the
timeline's query count stays one per source whatever the data.

- Medication: each medicine at the day it was started (its stop in the status).
- Therapy: each referral at the day it was made (its status in the status).
- Surgery: each procedure at its day.
- Deep brain stimulation: each system at its implant day and each programming session at its
  moment, in one query (a UNION), ordered as the timeline orders them: by local day, then a
  dated implant (at the end of its day) before the sessions of that day, newest first.

A dated event sits at the end of its day (timeline.end_of_day), as a diagnosis recorded later
does, so the events of one day keep the source's order.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Value,
)
from django.db.models.functions import TruncDate
from django.urls import reverse

from clinic.records.models import Patient
from clinic.records.timeline import (
    EventKind,
    EventSource,
    TimelineEvent,
    Window,
    end_of_day,
    register_source,
)
from clinic.scheduling.availability import clinic_tz
from clinic.treatment.dbs import day_text
from clinic.treatment.models import (
    DbsProgramming,
    DbsSetting,
    DbsSystem,
    DbsTarget,
    Medication,
    Procedure,
    TherapyReferral,
)

IMPLANT, PROGRAMMING = "implant", "programming"
WARNED = "Charge density warning"
TARGETS = dict(DbsTarget.choices)


def medications(patient: Patient, window: Window, limit: int) -> list[TimelineEvent]:
    rows = (
        Medication.objects.filter(window.days("started_on"), patient=patient)
        .only(
            "drug",
            "purpose",
            "started_on",
            "stopped_on",
            "stop_reason",
            "dopamine_receptor_blocker",
        )
        .order_by("-started_on", "-pk")[:limit]
    )
    events = []
    for m in rows:
        status = (
            f"Stopped {day_text(m.stopped_on)} ({m.get_stop_reason_display().lower()})"
            if m.stopped_on
            else "Taking"
        )
        detail = "; ".join(
            part
            for part in (
                m.purpose,
                "dopamine-receptor blocker" if m.dopamine_receptor_blocker else "",
            )
            if part
        )
        events.append(
            TimelineEvent(
                kind=EventKind.MEDICATION,
                at=end_of_day(m.started_on),
                timed=False,
                title=f"Started {m.drug}",
                detail=detail,
                url=reverse("treatment:medication", args=[m.pk]),
                status=status,
            )
        )
    return events


def therapy(patient: Patient, window: Window, limit: int) -> list[TimelineEvent]:
    rows = (
        TherapyReferral.objects.filter(window.days("referred_on"), patient=patient)
        .only("discipline", "referred_on", "status", "discharged_on")
        .order_by("-referred_on", "-pk")[:limit]
    )
    return [
        TimelineEvent(
            kind=EventKind.THERAPY,
            at=end_of_day(r.referred_on),
            timed=False,
            title=f"Referred for {r.get_discipline_display().lower()}",
            detail=f"Discharged {day_text(r.discharged_on)}" if r.discharged_on else "",
            url=reverse("treatment:therapy-referral", args=[r.pk]),
            status=r.get_status_display(),
        )
        for r in rows
    ]


def surgery(patient: Patient, window: Window, limit: int) -> list[TimelineEvent]:
    rows = (
        Procedure.objects.filter(window.days("performed_on"), patient=patient)
        .only("kind", "name", "performed_on", "side", "surgeon")
        .order_by("-performed_on", "-pk")[:limit]
    )
    return [
        TimelineEvent(
            kind=EventKind.SURGERY,
            at=end_of_day(p.performed_on),
            timed=False,
            title=p.title,
            detail=", ".join(
                part for part in (p.get_side_display() if p.side else "", p.surgeon) if part
            ),
            url=reverse("treatment:procedure", args=[p.pk]),
        )
        for p in rows
    ]


def dbs(patient: Patient, window: Window, limit: int) -> list[TimelineEvent]:
    """Implants and programming sessions in one query (columns in the same order on both
    sides of the UNION)."""
    implants = (
        DbsSystem.objects.filter(window.days("implanted_on"), patient=patient)
        .annotate(
            event_id=F("pk"),
            event=Value(IMPLANT, output_field=CharField()),
            day=F("implanted_on"),
            moment=Value(None, output_field=DateTimeField()),
            system_target=F("target"),
            by=Value("", output_field=CharField()),
            warned=Value(False, output_field=BooleanField()),
        )
        .values_list("event_id", "event", "day", "moment", "system_target", "by", "warned")
        .order_by()  # the models' default ordering is not allowed inside a UNION
    )
    warnings = DbsSetting.objects.filter(programming=OuterRef("pk")).exclude(
        charge_density_warning=""
    )
    sessions = (
        DbsProgramming.objects.filter(window.moments("programmed_at"), system__patient=patient)
        .annotate(
            event_id=F("pk"),
            event=Value(PROGRAMMING, output_field=CharField()),
            day=TruncDate("programmed_at", tzinfo=clinic_tz(), output_field=DateField()),
            moment=F("programmed_at"),
            system_target=F("system__target"),
            by=F("clinician__full_name"),
            warned=Exists(warnings),
        )
        .values_list("event_id", "event", "day", "moment", "system_target", "by", "warned")
        .order_by()
    )
    rows = implants.union(sessions, all=True).order_by(
        "-day", F("moment").desc(nulls_first=True), "-event_id"
    )[:limit]
    page = reverse("treatment:patient", args=[patient.pk]) + "#dbs"
    return [_dbs_event(row, implant_url=page) for row in rows]


DbsRow = tuple[int, str, date, datetime | None, str, str, bool]


def _dbs_event(row: DbsRow, *, implant_url: str) -> TimelineEvent:
    pk, event, day, moment, target, by, warned = row
    where = TARGETS.get(target, target)
    if event == IMPLANT or moment is None:
        return TimelineEvent(
            kind=EventKind.DBS,
            at=end_of_day(day),
            timed=False,
            title="DBS system implanted",
            detail=where,
            url=implant_url,
        )
    return TimelineEvent(
        kind=EventKind.DBS,
        at=moment,
        timed=True,
        title="DBS programming",
        detail=", ".join(part for part in (where, by) if part),
        url=reverse("treatment:dbs-programming", args=[pk]),
        status=WARNED if warned else "",
    )


def register() -> None:
    """Add the four sources to the patient timeline (called from TreatmentConfig.ready)."""
    register_source(EventSource(EventKind.MEDICATION, medications))
    register_source(EventSource(EventKind.THERAPY, therapy))
    register_source(EventSource(EventKind.DBS, dbs))
    register_source(EventSource(EventKind.SURGERY, surgery))
