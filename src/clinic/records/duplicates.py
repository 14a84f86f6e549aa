"""Likely duplicates of a patient about to be registered: the rules as pure functions over
names and dates, one bounded query to find the candidates, and the audited selector that
shows them to staff. The same NHS number is not a rule here: the service refuses it outright
(services.DUPLICATE_NHS_NUMBER).

A candidate is an existing patient with
- the same date of birth and the same family name, or
- the same given and family names, born on the date with day and month swapped (31/03
  typed as 03/31 cannot happen, but 04/03 for 03/04 can).
Names compare case-insensitively, with accents, spaces, hyphens and apostrophes ignored:
"O'Brien-Núñez" and "obrien nunez" are the same name, and so are "Łukasz" and "Lukasz".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.db.models import QuerySet

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_record_many
from clinic.records.access import access_create_patient, refuse
from clinic.records.models import Patient

# Enough for any real clinic (a few patients share a birthday); the bound keeps one query small.
CANDIDATE_ROWS_LIMIT = 500
CANDIDATES_SHOWN = 20


class MatchReason(StrEnum):
    """Why an existing patient looks like the new one."""

    SAME_BIRTH_DATE_AND_FAMILY_NAME = "Same date of birth and family name"
    SAME_NAME_DAY_MONTH_SWAPPED = "Same name; date of birth with day and month swapped"


@dataclass(frozen=True)
class Person:
    """What the rules compare: the names as typed and the date of birth."""

    given_name: str
    family_name: str
    date_of_birth: date


@dataclass(frozen=True)
class DuplicateCandidate:
    """An existing patient who may be the person being registered, and why."""

    patient: Patient
    reason: MatchReason


# Letters with no decomposition that an English keyboard types as plain ones ("Lukasz" for
# "Łukasz", "Isik" for "I\u015f\u0131k", with a dotless i).
PLAIN_LETTERS = str.maketrans(
    {"\u0131": "i", "ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe"}
)


def fold_name(name: str) -> str:
    """A name as the rules compare it: case folded, accents dropped, and only letters and
    digits kept. ``fold_name("Ó Ceallaigh") == fold_name("o'ceallaigh") == "oceallaigh"``."""
    decomposed = unicodedata.normalize("NFKD", name.casefold().translate(PLAIN_LETTERS))
    return "".join(
        char for char in decomposed if char.isalnum() and not unicodedata.combining(char)
    )


def day_month_swapped(value: date) -> date | None:
    """The date with day and month swapped, when that is another valid date; else ``None``.
    ``day_month_swapped(date(1988, 3, 11)) == date(1988, 11, 3)``."""
    if value.day == value.month:
        return None
    try:
        return value.replace(month=value.day, day=value.month)
    except ValueError:  # the day is over 12, or the month is too short for the day
        return None


def birth_dates_to_search(value: date) -> list[date]:
    """The dates of birth a look-alike of someone born on ``value`` may have."""
    swapped = day_month_swapped(value)
    return [value] if swapped is None else [value, swapped]


def match_reason(new: Person, existing: Person) -> MatchReason | None:
    """Why ``existing`` looks like ``new``, or ``None`` when it does not."""
    family = fold_name(new.family_name)
    if not family or family != fold_name(existing.family_name):
        return None
    if new.date_of_birth == existing.date_of_birth:
        return MatchReason.SAME_BIRTH_DATE_AND_FAMILY_NAME
    same_given = fold_name(new.given_name) == fold_name(existing.given_name)
    if same_given and day_month_swapped(new.date_of_birth) == existing.date_of_birth:
        return MatchReason.SAME_NAME_DAY_MONTH_SWAPPED
    return None


def likely_duplicates(
    new: Person, *, patients: QuerySet[Patient] | None = None
) -> list[DuplicateCandidate]:
    """Existing patients (of ``patients``, all by default) who look like ``new``, in name
    order. One query; not audited (see duplicates_for_user)."""
    pool = Patient.objects.all() if patients is None else patients
    rows = pool.filter(date_of_birth__in=birth_dates_to_search(new.date_of_birth)).order_by(
        "family_name", "given_name", "pk"
    )[:CANDIDATE_ROWS_LIMIT]
    found = []
    for patient in rows:
        existing = Person(patient.given_name, patient.family_name, patient.date_of_birth)
        reason = match_reason(new, existing)
        if reason is not None:
            found.append(DuplicateCandidate(patient=patient, reason=reason))
    return found


def duplicates_for_user(*, context: AuditContext, new: Person) -> list[DuplicateCandidate]:
    """The look-alikes of ``new`` (at most CANDIDATES_SHOWN), for the staff member
    registering them; each patient shown gets an audit entry. Raises AccessRefused (audited)
    for anyone who may not register patients."""
    if not access_create_patient(context.actor):
        raise refuse(context, object_type="patient_list", detail="duplicate check refused")
    shown = likely_duplicates(new)[:CANDIDATES_SHOWN]
    audit_record_many(
        context=context,
        action=AuditAction.READ,
        object_type="patient",
        patients=[candidate.patient for candidate in shown],
        detail="shown as a possible duplicate of a new patient",
    )
    return shown
