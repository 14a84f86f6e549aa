"""Reads for merging duplicate records (records/merge.py): finding the two records by hospital
number, and the side-by-side comparison an administrator decides on. Administrators see no
patient data otherwise, so the comparison holds identifiers, demographics and counts of rows,
never their content; every comparison is an audited read of both patients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_record_many
from clinic.records.duplicates import fold_name
from clinic.records.merge import (
    NO_SUCH_NUMBER,
    NO_SUCH_PATIENT,
    NUMBER_REQUIRED,
    SAME_RECORD,
    MergeRefused,
    check_merge_access,
    fillable_fields,
    format_day,
    merge_problems,
    patient_relations,
    refusals_audited,
    relation_label,
)
from clinic.records.models import Patient
from clinic.scheduling.availability import clinic_tz


@dataclass(frozen=True)
class ComparedDetail:
    """One identifying detail of both records, and how they compare (in words)."""

    label: str
    keep: str
    duplicate: str
    comparison: str

    @property
    def differs(self) -> bool:
        return self.comparison not in {SAME, NEITHER}


@dataclass(frozen=True)
class RecordCount:
    """How many rows of one kind each record holds (never what they say)."""

    label: str
    keep: int
    duplicate: int


@dataclass(frozen=True)
class MergeComparison:
    """What an administrator sees to decide: both records side by side, the counts, and what
    would stop the merge."""

    keep: Patient
    duplicate: Patient
    details: list[ComparedDetail]
    counts: list[RecordCount]
    problems: list[str]
    birth_dates_differ: bool


SAME = "Same"
DIFFERENT = "Different"
ONLY_KEPT = "Only on the record kept"
COPIED = "Only on the duplicate: will be copied to the record kept"
NOT_COPIED = "Only on the duplicate: not copied"
NEITHER = "Neither"


def merge_find(
    context: AuditContext, *, keep_number: str, duplicate_number: str
) -> tuple[int, int]:
    """The ids of the records with these hospital numbers (any case), for the comparison.
    Raises AccessRefused or MergeRefused (naming the field), both audited."""
    check_merge_access(context, action=AuditAction.READ)
    with refusals_audited(context, (), "merge lookup"):
        ids = []
        for field, raw in (("keep", keep_number), ("duplicate", duplicate_number)):
            number = (raw or "").strip()
            if not number:
                raise MergeRefused(NUMBER_REQUIRED, field=field)
            found = Patient.objects.filter(hospital_number__iexact=number).first()
            if found is None:
                raise MergeRefused(NO_SUCH_NUMBER.format(number=number), field=field)
            ids.append(found.pk)
        if ids[0] == ids[1]:
            raise MergeRefused(SAME_RECORD, field="duplicate")
    return ids[0], ids[1]


def _detail(label: str, keep: str, duplicate: str, *, copied: bool) -> ComparedDetail:
    def norm(value: str) -> str:
        return " ".join(value.casefold().split())

    if not keep and not duplicate:
        comparison = NEITHER
    elif not duplicate:
        comparison = ONLY_KEPT
    elif not keep:
        comparison = COPIED if copied else NOT_COPIED
    else:
        comparison = SAME if norm(keep) == norm(duplicate) else DIFFERENT
    return ComparedDetail(label, keep, duplicate, comparison)


def _joined(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def _registered(patient: Patient) -> str:
    day = format_day(patient.created_at.astimezone(clinic_tz()).date())
    return f"{day}, by the patient online" if patient.registered_by_patient else day


# What the comparison shows, with the field whose filling decides "will be copied".
_SHOWN: tuple[tuple[str, str, Callable[[Patient], str]], ...] = (
    ("Name", "", lambda p: p.full_name),
    ("Date of birth", "", lambda p: format_day(p.date_of_birth)),
    ("NHS number", "nhs_number", lambda p: p.nhs_number_display),
    ("Hospital number", "", lambda p: p.hospital_number),
    ("Address", "address", lambda p: p.address),
    ("Postcode", "postcode", lambda p: p.postcode),
    ("Phone", "phone", lambda p: p.phone),
    ("Email", "email", lambda p: p.email),
    ("GP", "gp_name", lambda p: _joined(p.gp_name, p.gp_practice, p.gp_address, p.gp_email)),
    (
        "Referred by",
        "referrer_name",
        lambda p: _joined(p.referrer_name, p.referrer_organisation, p.referrer_address),
    ),
    ("Patient sign-in", "user", lambda p: p.user.email if p.user else ""),
    (
        "Date of death",
        "date_of_death",
        lambda p: format_day(p.date_of_death) if p.date_of_death else "",
    ),
    ("Registered on", "", _registered),
)


def _details(keep: Patient, duplicate: Patient) -> list[ComparedDetail]:
    copied = set(fillable_fields(keep, duplicate))
    if keep.user_id is None and duplicate.user_id is not None:
        copied.add("user")  # the sign-in moves to the record kept
    details = [
        _detail(label, value(keep), value(duplicate), copied=field in copied)
        for label, field, value in _SHOWN
    ]
    # Names compare as the duplicate check does: without case, accents or punctuation.
    if fold_name(keep.full_name) == fold_name(duplicate.full_name):
        details[0] = ComparedDetail("Name", keep.full_name, duplicate.full_name, SAME)
    return details


def _counts(keep: Patient, duplicate: Patient) -> list[RecordCount]:
    """Rows of each kind pointing at each record: one query."""
    relations = patient_relations()
    annotations: dict[str, Any] = {}
    for index, relation in enumerate(relations):
        name = relation.field.name
        rows = relation.related_model._base_manager.filter(**{name: OuterRef("pk")})
        counted = rows.order_by().values(name).annotate(n=Count("pk")).values("n")
        annotations[f"n{index}"] = Coalesce(Subquery(counted), 0)
    found = Patient.objects.filter(pk__in=[keep.pk, duplicate.pk]).annotate(**annotations)
    by_id = {row["pk"]: row for row in found.values("pk", *annotations)}
    return [
        RecordCount(relation_label(relation), by_id[keep.pk][f"n{i}"], by_id[duplicate.pk][f"n{i}"])
        for i, relation in enumerate(relations)
    ]


def merge_comparison(
    context: AuditContext, *, keep_id: int, duplicate_id: int, after_merge: bool = False
) -> MergeComparison:
    """Both records side by side for an administrator: an audited read of both. With
    ``after_merge``, the result of a merge (the duplicate must be merged into the other).
    Raises AccessRefused or MergeRefused (404 for an unknown record), audited."""
    check_merge_access(context, keep_id, duplicate_id, action=AuditAction.READ)
    with refusals_audited(context, (keep_id, duplicate_id), "merge comparison"):
        if keep_id == duplicate_id:
            raise MergeRefused(SAME_RECORD)
        rows = Patient.objects.select_related("user").filter(pk__in=[keep_id, duplicate_id])
        found = {patient.pk: patient for patient in rows}
        keep, duplicate = found.get(keep_id), found.get(duplicate_id)
        if keep is None or duplicate is None:
            raise MergeRefused(NO_SUCH_PATIENT, status=404)
        if after_merge and duplicate.merged_into_id != keep.pk:
            raise MergeRefused(NO_SUCH_PATIENT, status=404)
    problems = (
        [] if after_merge else [problem.message for problem in merge_problems(keep, duplicate)]
    )
    comparison = MergeComparison(
        keep=keep,
        duplicate=duplicate,
        details=_details(keep, duplicate),
        counts=_counts(keep, duplicate),
        problems=problems,
        birth_dates_differ=keep.date_of_birth != duplicate.date_of_birth,
    )
    what = "merge result" if after_merge else "compared for merging"
    audit_record_many(
        context=context,
        action=AuditAction.READ,
        object_type="patient",
        patients=[keep, duplicate],
        detail=f"{what}: identifiers and counts only",
    )
    return comparison
