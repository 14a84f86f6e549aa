"""Reads for the treatment pages: the patient's treatment page (every section in a fixed
number of queries, one audit entry) and the battery alerts shown on each of the patient's
treatment pages. Clinicians only; anyone else is refused by the callers' patient_for_treatment
(403 for staff, 404 for patients), audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.db.models import Count, Max, OuterRef, Prefetch, Subquery

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records.models import Patient
from clinic.treatment.dbs import (
    BatteryAlert,
    battery_alert,
    day_text,
    generator_label,
    lead_label,
)
from clinic.treatment.dbs_programming import CASE, POLARITY_LABELS, settings_of
from clinic.treatment.medication import current_step
from clinic.treatment.models import (
    BatteryCheck,
    DbsLead,
    DbsProgramming,
    DbsSetting,
    DbsSystem,
    Discipline,
    Hemisphere,
    Medication,
    Procedure,
    TherapyReferral,
    TitrationStep,
)
from clinic.treatment.pathway import (
    DISCIPLINES,
    PathwayPanel,
    Tried,
    medicine_treatments,
    pathway_panel,
    procedure_treatment,
)
from dystonia.dbs import LEADS
from dystonia.pathway import Treatment

# The most the page lists of each (newest first); older ones are on the timeline.
SESSIONS_SHOWN = 20


@dataclass(frozen=True)
class LeadView:
    """A lead and its model as the pages say it."""

    lead: DbsLead
    label: str


@dataclass(frozen=True)
class DbsEntry:
    """A system as the page shows it: generator, leads (and the hemispheres without one),
    latest battery check and its alert, and the newest programming sessions with their
    settings."""

    system: DbsSystem
    generator: str
    leads: list[LeadView]
    missing_sides: list[tuple[str, str]]
    latest_battery: BatteryCheck | None
    alert: BatteryAlert | None
    sessions: list[DbsProgramming]


@dataclass(frozen=True)
class MedicationEntry:
    """A medicine as the page shows it, with the dose taken today."""

    medication: Medication
    current: TitrationStep | None


@dataclass(frozen=True)
class TreatmentPage:
    """Every section of the patient's treatment page."""

    patient: Patient
    medications: list[MedicationEntry] = field(default_factory=list)
    referrals: list[TherapyReferral] = field(default_factory=list)
    dbs: list[DbsEntry] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    pathway: PathwayPanel | None = None

    @property
    def blockers(self) -> int:
        return sum(1 for e in self.medications if e.medication.dopamine_receptor_blocker)

    @property
    def alerts(self) -> list[BatteryAlert]:
        return [entry.alert for entry in self.dbs if entry.alert is not None]


def _latest_check_ids(systems: Sequence[DbsSystem]) -> dict[int, int]:
    """System id to its latest battery check's id (annotated as latest_check_id)."""
    ids = {s.pk: getattr(s, "latest_check_id", None) for s in systems}
    return {system: check for system, check in ids.items() if check is not None}


def _systems(patient: Patient) -> list[DbsSystem]:
    latest = (
        BatteryCheck.objects.filter(system=OuterRef("pk"))
        .order_by("-checked_on", "-pk")
        .values("pk")[:1]
    )
    sessions = DbsProgramming.objects.select_related("clinician", "encounter").prefetch_related(
        Prefetch("settings", queryset=DbsSetting.objects.select_related("lead"))
    )
    return list(
        DbsSystem.objects.filter(patient=patient)
        .annotate(latest_check_id=Subquery(latest))
        .prefetch_related(
            "leads",
            Prefetch("programming", queryset=sessions[:SESSIONS_SHOWN], to_attr="recent"),
        )
    )


def dbs_entries(patient: Patient) -> list[DbsEntry]:
    """The patient's DBS systems, newest first (five queries however many)."""
    systems = _systems(patient)
    ids = _latest_check_ids(systems)
    checks = {c.pk: c for c in BatteryCheck.objects.filter(pk__in=ids.values())} if ids else {}
    entries = []
    for system in systems:
        latest = checks.get(ids.get(system.pk, 0))
        leads = list(system.leads.all())
        sides = {lead.hemisphere for lead in leads}
        entries.append(
            DbsEntry(
                system=system,
                generator=generator_label(system),
                leads=[LeadView(lead=lead, label=lead_label(lead)) for lead in leads],
                missing_sides=[(v, label) for v, label in Hemisphere.choices if v not in sides],
                latest_battery=latest,
                alert=battery_alert(system, latest),
                sessions=list(getattr(system, "recent", [])),
            )
        )
    return entries


def battery_alerts(patient: Patient) -> list[BatteryAlert]:
    """The alerts of the patient's systems whose latest battery check is low or worse (two
    queries), for every treatment page of the patient."""
    latest = (
        BatteryCheck.objects.filter(system=OuterRef("pk"))
        .order_by("-checked_on", "-pk")
        .values("pk")[:1]
    )
    systems = list(
        DbsSystem.objects.filter(patient=patient).annotate(latest_check_id=Subquery(latest))
    )
    ids = _latest_check_ids(systems)
    if not ids:
        return []
    checks = {c.pk: c for c in BatteryCheck.objects.filter(pk__in=ids.values())}
    alerts = [battery_alert(s, checks.get(ids.get(s.pk, 0))) for s in systems]
    return [alert for alert in alerts if alert is not None]


@dataclass(frozen=True)
class ContactView:
    """One contact of a setting as the session's page shows it."""

    name: str
    polarity: str
    impedance_ohm: int | None
    density: float | None


@dataclass(frozen=True)
class SettingView:
    """A setting as the session's page shows it: the lead, the contacts, the warnings (one
    per contact over the lead's limit), and whether the density could be computed."""

    setting: DbsSetting
    lead: str
    contacts: list[ContactView]
    warnings: list[str]
    density_checked: bool


def setting_views(session: DbsProgramming) -> list[SettingView]:
    """A session's settings, left first (one query)."""
    views = []
    for setting in settings_of(session):
        densities = setting.charge_density or {}
        impedances = setting.impedances or {}
        contacts = [
            ContactView(
                name="Case" if key == CASE else key,
                polarity=POLARITY_LABELS.get(polarity, polarity),
                impedance_ohm=impedances.get(key),
                density=densities.get(key),
            )
            for key, polarity in (setting.contacts or {}).items()
        ]
        views.append(
            SettingView(
                setting=setting,
                lead=lead_label(setting.lead),
                contacts=contacts,
                warnings=[w for w in setting.charge_density_warning.split("\n") if w],
                density_checked=setting.lead.model in LEADS,
            )
        )
    return views


def medication_entries(patient: Patient) -> list[MedicationEntry]:
    """The patient's medicines, newest first, each with today's dose (two queries)."""
    rows = Medication.objects.filter(patient=patient).prefetch_related("titration_steps")
    return [
        MedicationEntry(medication=m, current=current_step(list(m.titration_steps.all())))
        for m in rows
    ]


def referrals_of(patient: Patient) -> list[TherapyReferral]:
    """The patient's therapy referrals, newest first, each with ``session_count`` and
    ``last_session`` (one query)."""
    return list(
        TherapyReferral.objects.filter(patient=patient).annotate(
            session_count=Count("sessions"), last_session=Max("sessions__held_on")
        )
    )


def procedures_of(patient: Patient) -> list[Procedure]:
    """The patient's procedures, newest first (one query)."""
    return list(Procedure.objects.filter(patient=patient))


def tried_treatments(page: TreatmentPage) -> list[Tried]:
    """What the page's records show was tried, as pathway options with a line of text each."""
    tried: list[Tried] = []
    for entry in page.medications:
        m = entry.medication
        text = f"{m.drug}, started {day_text(m.started_on)}"
        if m.stopped_on:
            text += f", stopped {day_text(m.stopped_on)} ({m.get_stop_reason_display().lower()})"
        text += f"; effect: {m.get_effect_display().lower()}"
        tried += [Tried(treatment, text) for treatment in medicine_treatments(m.drug)]
    for referral in page.referrals:
        treatment = DISCIPLINES.get(Discipline(referral.discipline))
        if treatment is not None:
            status = referral.get_status_display().lower()
            tried.append(Tried(treatment, f"Referred {day_text(referral.referred_on)} ({status})"))
    for dbs in page.dbs:
        text = f"Implanted {day_text(dbs.system.implanted_on)}"
        tried.append(Tried(Treatment.DEEP_BRAIN_STIMULATION, text))
    for procedure in page.procedures:
        surgical = procedure_treatment(procedure.kind)
        if surgical is not None:
            tried.append(Tried(surgical, f"Performed {day_text(procedure.performed_on)}"))
    return tried


def treatment_page(*, context: AuditContext, patient: Patient) -> TreatmentPage:
    """The page's sections. Call after the patient's audited read (patient_for_treatment and
    the record's patient_for_user): one more entry says what was shown, in counts."""
    page = TreatmentPage(
        patient=patient,
        medications=medication_entries(patient),
        referrals=referrals_of(patient),
        dbs=dbs_entries(patient),
        procedures=procedures_of(patient),
    )
    page = replace(page, pathway=pathway_panel(patient, tried_treatments(page)))
    detail = (
        f"treatment page read: {len(page.medications)} medications, "
        f"{len(page.referrals)} therapy referrals, {len(page.dbs)} DBS systems, "
        f"{len(page.procedures)} procedures"
    )
    audit_object(context, AuditAction.READ, None, patient, detail, object_type="treatment")
    return page


def list_read(context: AuditContext, patient: Patient, *, object_type: str, count: int) -> None:
    """One audit entry for a list read through the API ("3 medications"), in counts only."""
    detail = f"{count} {object_type.replace('_', ' ')}s"
    audit_object(context, AuditAction.READ, None, patient, detail, object_type=object_type)
