"""The examination by body region at an encounter (writes): the involved sites, each with its
posture, movement, tremor and task specificity, the associated signs and notes. Saved while
the encounter is a draft, by its clinician only, with optimistic concurrency on the
examination's ``updated_at`` (as encounters.encounter_update_notes does for the notes); each
save replaces the region rows in one transaction, under the patient's row lock then the
encounter's (the merge's order; a record merged meanwhile is refused, 409: records/merged.py),
and refreshes the classification review (records/classification.py). Refusals are audited
outside the transaction they roll back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import transaction

from clinic.accounts.models import User
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records import classification
from clinic.records.encounters import (
    LOCKED,
    NOT_AUTHOR,
    NUL_CHARACTER,
    EncounterNotFound,
    EncounterRefused,
    check_clinician,
    encounter_not_found,
)
from clinic.records.locks import busy_as
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import Encounter, Examination, Patient, RegionFinding
from clinic.records.models.examination import FINDING_TEXT_MAX_LENGTH
from dystonia.anatomy import ALL_BODY_SITES, Region
from dystonia.findings import AssociatedFeature

# Input bound (operational choice): a page of examination notes.
EXAMINATION_NOTES_MAX_LENGTH = 10_000

BAD_REGION = "Choose the body regions from the diagram or the list."
BAD_SIDE = "A limb needs its side, left or right; the other regions have no side."
DUPLICATE_SITE = "Each body site can be marked only once."
BAD_FEATURE = "Choose the associated signs from the list."
BAD_FLAG = "Tremor and task-specific are yes or no."
BAD_TEXT = "Enter text."
POSTURE_TOO_LONG = f"The posture can be at most {FINDING_TEXT_MAX_LENGTH} characters."
MOVEMENT_TOO_LONG = f"The movement can be at most {FINDING_TEXT_MAX_LENGTH} characters."
NOTES_TOO_LONG = f"Examination notes can be at most {EXAMINATION_NOTES_MAX_LENGTH:,} characters."
DETAILS_WITHOUT_INVOLVED = (
    "Tick \u201cInvolved\u201d for this site, or clear what you entered about it."
)
STALE = (
    "The examination was saved elsewhere (another tab or device) since you opened this page, "
    "so yours was not saved. Your entries are kept below: compare them with the saved "
    "examination, then save again."
)


class ExaminationRefused(EncounterRefused):
    """The examination cannot be saved as asked (``message``; ``field`` names the form field,
    such as ``neck_posture``; ``status`` 400, 403 or 409)."""


@dataclass(frozen=True)
class Site:
    """One of the twelve body sites of the diagram and the form."""

    key: str
    region: str
    side: str
    label: str


def site_key(region: str, side: str) -> str:
    """The form's name for a site: ``neck``, ``upper_limb_right``."""
    return f"{region}_{side}" if side else region


# The core's body sites in its order (dystonia.anatomy.ALL_BODY_SITES), labelled "Right upper
# limb", "Upper face (eyes)".
SITES: tuple[Site, ...] = tuple(
    Site(
        key=site_key(site.region.value, site.side.value if site.side else ""),
        region=site.region.value,
        side=site.side.value if site.side else "",
        label=site.label[0].upper() + site.label[1:],
    )
    for site in ALL_BODY_SITES
)
SITES_BY_KEY = {site.key: site for site in SITES}

# Display names of dystonia.findings.AssociatedFeature (the core names the values only).
FEATURE_LABELS: dict[str, str] = {
    AssociatedFeature.TREMOR: "Tremor",
    AssociatedFeature.MYOCLONUS: "Myoclonus",
    AssociatedFeature.PARKINSONISM: "Parkinsonism",
    AssociatedFeature.CHOREA: "Chorea",
    AssociatedFeature.ATAXIA: "Ataxia",
    AssociatedFeature.SPASTICITY: "Spasticity",
    AssociatedFeature.PYRAMIDAL_SIGNS: "Pyramidal signs",
    AssociatedFeature.COGNITIVE_DECLINE: "Cognitive decline",
    AssociatedFeature.SEIZURES: "Seizures",
    AssociatedFeature.OCULOMOTOR_ABNORMALITY: "Oculomotor abnormality",
    AssociatedFeature.NEUROPATHY: "Neuropathy",
    AssociatedFeature.OTHER_NEUROLOGICAL: "Other neurological sign",
    AssociatedFeature.LIVER_DISEASE: "Liver disease",
    AssociatedFeature.PSYCHIATRIC_FEATURES: "Psychiatric features",
    AssociatedFeature.KAYSER_FLEISCHER_RINGS: "Kayser-Fleischer rings",
    AssociatedFeature.OTHER_SYSTEMIC: "Other systemic feature",
}


@dataclass(frozen=True)
class SiteFinding:
    """An involved site as entered: ``region`` a dystonia.anatomy.Region value, ``side``
    "left" or "right" for a limb and "" otherwise."""

    region: str
    side: str = ""
    posture: str = ""
    movement: str = ""
    tremor: bool = False
    task_specific: bool = False


_audit = partial(audit_object, object_type="examination")


def _text(value: object, *, limit: int, too_long: str, field: str) -> str:
    if not isinstance(value, str):
        raise ExaminationRefused(BAD_TEXT, field=field)
    if "\x00" in value:
        raise ExaminationRefused(NUL_CHARACTER, field=field)
    value = value.replace("\r\n", "\n").strip()
    if len(value) > limit:
        raise ExaminationRefused(too_long, field=field)
    return value


def _site(finding: SiteFinding) -> tuple[Site, SiteFinding]:
    """The site a finding is about and the finding with its text checked and trimmed."""
    region, side = finding.region, finding.side
    if not isinstance(region, str) or region not in Region._value2member_map_:
        raise ExaminationRefused(BAD_REGION, field="sites")
    if not isinstance(side, str) or site_key(region, side) not in SITES_BY_KEY:
        raise ExaminationRefused(BAD_SIDE, field="sites")
    site = SITES_BY_KEY[site_key(region, side)]
    if not isinstance(finding.tremor, bool) or not isinstance(finding.task_specific, bool):
        raise ExaminationRefused(BAD_FLAG, field=f"{site.key}_tremor")
    posture = _text(
        finding.posture,
        limit=FINDING_TEXT_MAX_LENGTH,
        too_long=POSTURE_TOO_LONG,
        field=f"{site.key}_posture",
    )
    movement = _text(
        finding.movement,
        limit=FINDING_TEXT_MAX_LENGTH,
        too_long=MOVEMENT_TOO_LONG,
        field=f"{site.key}_movement",
    )
    checked = SiteFinding(region, side, posture, movement, finding.tremor, finding.task_specific)
    return site, checked


def _checked_sites(sites: Sequence[SiteFinding]) -> list[SiteFinding]:
    if isinstance(sites, str | bytes) or not isinstance(sites, Sequence):
        raise ExaminationRefused(BAD_REGION, field="sites")
    checked: dict[str, SiteFinding] = {}
    for finding in sites:
        if not isinstance(finding, SiteFinding):
            raise ExaminationRefused(BAD_REGION, field="sites")
        site, clean = _site(finding)
        if site.key in checked:
            raise ExaminationRefused(DUPLICATE_SITE, field="sites")
        checked[site.key] = clean
    return list(checked.values())


def _checked_features(features: Sequence[str]) -> list[str]:
    if isinstance(features, str | bytes) or not isinstance(features, Sequence):
        raise ExaminationRefused(BAD_FEATURE, field="associated_features")
    for feature in features:
        if not isinstance(feature, str) or feature not in FEATURE_LABELS:
            raise ExaminationRefused(BAD_FEATURE, field="associated_features")
    return sorted(set(features))


@contextmanager
def _refusals_audited(
    context: AuditContext, encounter: Encounter, patient: Patient
) -> Iterator[None]:
    """Audit a refusal raised in the block, outside the transaction it rolls back. The
    messages name no body site, so the entry holds no clinical content. A lock error is
    refused as busy (409)."""
    try:
        with busy_as(ExaminationRefused):
            yield
    except EncounterRefused as refusal:
        detail = f"examination of encounter {encounter.pk} refused: {refusal.message}"
        _audit(context, AuditAction.UPDATE, None, patient, detail, allowed=False)
        raise


def found_encounter(
    context: AuditContext, encounter_id: int, action: AuditAction
) -> tuple[Encounter, User]:
    """The encounter with its patient, and the acting clinician; EncounterNotFound or
    AccessRefused, both audited."""
    encounter = Encounter.objects.select_related("patient").filter(pk=encounter_id).first()
    if encounter is None:
        encounter_not_found(context, encounter_id, action)
        raise EncounterNotFound
    return encounter, check_clinician(context, encounter.patient, action, encounter)


def check_author_of_draft(encounter: Encounter, clinician: User) -> None:
    """Refuse a signed encounter (409) or another clinician's draft (403)."""
    if encounter.is_signed:
        raise ExaminationRefused(LOCKED, status=409)
    if encounter.clinician_id != clinician.pk:
        name = encounter.clinician.full_name
        raise ExaminationRefused(NOT_AUTHOR.format(name=name), status=403)


def examination_save(
    *,
    context: AuditContext,
    encounter_id: int,
    sites: Sequence[SiteFinding],
    associated_features: Sequence[str],
    notes: str = "",
    expected_updated_at: datetime | None,
) -> Examination:
    """Save the examination of a draft (its clinician only): ``sites`` are the involved body
    sites (each at most once), ``associated_features`` values of
    dystonia.findings.AssociatedFeature. ``expected_updated_at`` is the examination's
    ``updated_at`` as the writer saw it (None when there was none yet): if it was saved
    since, nothing is overwritten (409). Replaces the region rows, then refreshes the
    classification review. Raises EncounterNotFound, ExaminationRefused or AccessRefused,
    all audited."""
    encounter, clinician = found_encounter(context, encounter_id, AuditAction.UPDATE)
    patient = encounter.patient
    with _refusals_audited(context, encounter, patient):
        refuse_if_merged(patient, ExaminationRefused)
        checked = _checked_sites(sites)
        features = _checked_features(associated_features)
        notes = _text(
            notes, limit=EXAMINATION_NOTES_MAX_LENGTH, too_long=NOTES_TOO_LONG, field="notes"
        )
        with transaction.atomic():
            # The patient first, as the merge and every other clinical write lock it (no key:
            # inserts that reference the patient go on); then only the encounter's row, not
            # the clinician's user row, which audit entries reference.
            lock_unmerged(patient.pk, ExaminationRefused)
            locked = (
                Encounter.objects.select_for_update(of=("self",))
                .select_related("clinician", "patient")
                .get(pk=encounter.pk)
            )
            check_author_of_draft(locked, clinician)
            examination = Examination.objects.filter(encounter=locked).first()
            seen = examination.updated_at if examination is not None else None
            if seen != expected_updated_at:
                raise ExaminationRefused(STALE, status=409)
            action = AuditAction.UPDATE if examination is not None else AuditAction.CREATE
            examination = examination or Examination(encounter=locked)
            examination.associated_features = features
            examination.notes = notes
            examination.save()
            RegionFinding.objects.filter(examination=examination).delete()
            RegionFinding.objects.bulk_create(
                RegionFinding(
                    examination=examination,
                    region=finding.region,
                    side=finding.side,
                    posture=finding.posture,
                    movement=finding.movement,
                    tremor=finding.tremor,
                    task_specific=finding.task_specific,
                )
                for finding in checked
            )
            detail = (
                f"examination of encounter {locked.pk} saved ({len(checked)} sites, "
                f"{len(features)} associated signs, notes {len(notes):,} characters)"
            )
            _audit(context, action, examination, patient, detail)
            classification.refresh_review(locked, context=context)
            return examination
