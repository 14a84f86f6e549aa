"""What an investigation's order and result must hold, checked before anything is written
(records/investigations.py writes). No clinical rule lives here: a blood or urine result is
converted to its analyte's canonical unit and read by the core (dystonia.labs), and its
reading is stored with it; the rest is the shape of the input.

Per kind: a blood or urine test needs a value (a finite number of 0 or more) and its unit
(one the analyte is reported in), with the laboratory's reference range if given (in the same
unit); a slit-lamp examination whether Kayser-Fleischer rings were seen; a genetic panel the
variant found in HGVS notation with its gene and classification, or a report saying none was;
a levodopa trial the daily dose, the duration and the response; imaging, EMG and other
investigations the report. A value typed for another kind is refused, never dropped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import InvestigationKind, LevodopaResponse, VariantClassification
from clinic.records.models.investigation import LAB_KINDS, REPORT_KINDS
from dystonia.errors import InvalidInput
from dystonia.labs import (
    Analyte,
    Interpretation,
    ReferenceRange,
    accepted_units,
    interpret_caeruloplasmin,
    interpret_serum_copper,
    interpret_urinary_copper,
    lab_reference_range,
)
from dystonia.labs.units import parse_unit

NAME_MAX_LENGTH = 200  # Investigation.name's max_length
REASON_MAX_LENGTH = 300  # Investigation.cancelled_reason's max_length
REPORT_MAX_LENGTH = 20_000  # an operational bound: a long report is a few thousand words
GENE_MAX_LENGTH = 20  # Investigation.gene's max_length
VARIANT_MAX_LENGTH = 200  # Investigation.variant's max_length
# Input bounds against typing errors, not clinical limits: no result the unit records comes
# near a million in any accepted unit, and a levodopa trial's usual dose is 300 mg a day
# (carbidopa-levodopa 25/100 mg three times daily, clinical.md 3.3).
VALUE_MAX = 1_000_000
LEVODOPA_DOSE_MAX_MG_PER_DAY = 2_000
LEVODOPA_DURATION_MAX_DAYS = 365
# HGNC gene symbols: letters, digits and hyphens ("ATP7B", "TOR1A", "C9orf72").
GENE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
# HGVS: an optional reference sequence, then a c./g./m./n./o./p./r. description.
HGVS_PATTERN = re.compile(r"(?:[A-Za-z0-9_.]+(?:\([A-Za-z0-9_.]+\))?:)?[cgmnopr]\.\S+")

BAD_TEXT = "Enter text."
TEXT_TOO_LONG = "{label} can be at most {limit:,} characters."
BAD_DATE = "Enter a real date, for example 31/03/2026."
BAD_KIND = "Choose the investigation from the list."
NAME_REQUIRED = "Say which investigation is ordered."
ORDERED_IN_FUTURE = "The date it was ordered cannot be in the future."
ORDERED_BEFORE_BIRTH = "The date it was ordered cannot be before the patient's date of birth."
RESULTED_REQUIRED = "Give the date of the result."
RESULTED_IN_FUTURE = "The date of the result cannot be in the future."
RESULTED_BEFORE_ORDER = "The date of the result cannot be before the date it was ordered ({day})."
RESULTED_BEFORE_BIRTH = "The date of the result cannot be before the patient's date of birth."
VALUE_REQUIRED = "Enter the result, for example 0.25."
BAD_NUMBER = "Enter the result as a number, for example 0.25."
NEGATIVE = "The result cannot be negative."
TOO_LARGE = f"The result cannot be more than {VALUE_MAX:,}: check the value and its unit."
UNIT_REQUIRED = "Give the unit of the result: {units}."
UNKNOWN_UNIT = "Choose a unit of {analyte}: {units}."
BAD_BOUND = "Enter the reference range's limit as a number of 0 or more, for example 0.2."
BOUND_TOO_LARGE = f"A reference range's limit cannot be more than {VALUE_MAX:,}."
LOW_ABOVE_HIGH = "The low end of the reference range cannot be above the high end."
KF_REQUIRED = "Say whether Kayser-Fleischer rings were seen."
BAD_GENE = "Write the gene's symbol, for example ATP7B."
GENE_REQUIRED = "Give the gene the variant is in, for example ATP7B."
BAD_VARIANT = "Write the variant in HGVS notation, for example NM_000053.4:c.3207C>A."
CLASSIFICATION_REQUIRED = "Choose the variant's classification, for example likely pathogenic."
BAD_CLASSIFICATION = "Choose the variant's classification from the list."
CLASSIFICATION_WITHOUT_VARIANT = (
    "A classification is recorded only with a variant: give the variant."
)
VARIANT_OR_REPORT = (
    "Give the variant found, or write the report (for example 'no pathogenic variant found')."
)
BAD_DOSE = "Enter the levodopa dose as a whole number of mg a day, for example 300."
DOSE_OUT_OF_RANGE = (
    f"The levodopa dose must be from 1 to {LEVODOPA_DOSE_MAX_MG_PER_DAY:,} mg a day: check it."
)
BAD_DURATION = "Enter how long the trial lasted as a whole number of days, for example 28."
DURATION_OUT_OF_RANGE = (
    f"The trial's duration must be from 1 to {LEVODOPA_DURATION_MAX_DAYS} days: check it."
)
BAD_RESPONSE = "Choose the response to levodopa from the list."
REPORT_REQUIRED = "Write the report, or its conclusion."
RESULT_NOT_VALID = "the result as entered was incomplete or not valid"
NOT_FOR_THIS_KIND = (
    "{label} is not recorded for this kind of investigation ({kind}): leave it empty."
)

# The result's parts, by the kinds that have them (the report belongs to every kind).
PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "value": ("A value", tuple(LAB_KINDS)),
    "unit": ("A unit", tuple(LAB_KINDS)),
    "reference_low": ("A reference range", tuple(LAB_KINDS)),
    "reference_high": ("A reference range", tuple(LAB_KINDS)),
    "kf_rings": ("Kayser-Fleischer rings", (InvestigationKind.SLIT_LAMP,)),
    "gene": ("A gene", (InvestigationKind.GENETIC_PANEL,)),
    "variant": ("A variant", (InvestigationKind.GENETIC_PANEL,)),
    "variant_classification": ("A variant classification", (InvestigationKind.GENETIC_PANEL,)),
    "levodopa_dose_mg_per_day": ("A levodopa dose", (InvestigationKind.LEVODOPA_TRIAL,)),
    "levodopa_duration_days": ("A trial duration", (InvestigationKind.LEVODOPA_TRIAL,)),
    "levodopa_response": ("A response to levodopa", (InvestigationKind.LEVODOPA_TRIAL,)),
}
READERS = {
    Analyte.CAERULOPLASMIN: interpret_caeruloplasmin,
    Analyte.SERUM_COPPER: interpret_serum_copper,
    Analyte.URINARY_COPPER_24H: interpret_urinary_copper,
}


class InvestigationRefused(ValueError):  # noqa: N818 - reads as the event
    """An order, result or cancellation cannot be done as asked: ``message`` says why,
    ``field`` names the input it is about (empty for the whole request), ``status`` is the
    HTTP answer for a page (400 bad input, 409 a conflict with the record's state).
    ``reason`` is what the audit trail keeps: the message without the analyte or kind it
    names, since administrators read the trail."""

    def __init__(
        self, message: str, *, field: str = "", status: int = 400, reason: str = ""
    ) -> None:
        self.message = message
        self.field = field
        self.status = status
        self.reason = reason or message
        super().__init__(message)


@dataclass(frozen=True)
class OrderDetails:
    """An order as a form hands it over; ``encounter_id`` links it to a visit."""

    kind: str
    ordered_on: date
    name: str = ""
    encounter_id: int | None = None


@dataclass(frozen=True)
class ResultDetails:
    """A result as a form hands it over; only the parts of the investigation's kind are
    given (the reference range in the result's unit)."""

    resulted_on: date
    value: Any = None
    unit: str = ""
    reference_low: Any = None
    reference_high: Any = None
    kf_rings: bool | None = None
    gene: str = ""
    variant: str = ""
    variant_classification: str = ""
    levodopa_dose_mg_per_day: Any = None
    levodopa_duration_days: Any = None
    levodopa_response: str = ""
    report: str = ""


# Shapes


def check_text(value: Any, *, field: str, label: str, limit: int, one_line: bool = False) -> str:
    """Text as stored: stripped, line endings made "\\n" (or spaces collapsed for one line),
    NUL refused, at most ``limit`` characters."""
    if not isinstance(value, str):
        raise InvestigationRefused(BAD_TEXT, field=field)
    if "\x00" in value:
        raise InvestigationRefused(NUL_CHARACTER, field=field)
    text = " ".join(value.split()) if one_line else value.replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise InvestigationRefused(TEXT_TOO_LONG.format(label=label, limit=limit), field=field)
    return text


def check_day(value: Any, *, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvestigationRefused(BAD_DATE, field=field)
    return value


def check_kind(value: Any) -> str:
    if not isinstance(value, str) or value not in InvestigationKind.values:
        raise InvestigationRefused(BAD_KIND, field="kind")
    return value


def check_ordered_on(value: Any, *, born: date, today: date) -> date:
    """The day it was ordered: not in the future, not before birth."""
    day = check_day(value, field="ordered_on")
    if day > today:
        raise InvestigationRefused(ORDERED_IN_FUTURE, field="ordered_on")
    if day < born:
        raise InvestigationRefused(ORDERED_BEFORE_BIRTH, field="ordered_on")
    return day


def check_order(details: OrderDetails, *, born: date, today: date) -> tuple[str, str, date]:
    """The kind, the name and the day an order is stored with."""
    kind = check_kind(details.kind)
    name = check_text(
        details.name, field="name", label="The name", limit=NAME_MAX_LENGTH, one_line=True
    )
    if kind == InvestigationKind.OTHER and not name:
        raise InvestigationRefused(NAME_REQUIRED, field="name")
    return kind, name, check_ordered_on(details.ordered_on, born=born, today=today)


def check_resulted_on(value: Any, *, ordered_on: date, born: date, today: date) -> date:
    """The day of the result: not in the future, not before the order nor birth."""
    if value is None:
        raise InvestigationRefused(RESULTED_REQUIRED, field="resulted_on")
    day = check_day(value, field="resulted_on")
    if day > today:
        raise InvestigationRefused(RESULTED_IN_FUTURE, field="resulted_on")
    if day < born:
        raise InvestigationRefused(RESULTED_BEFORE_BIRTH, field="resulted_on")
    if day < ordered_on:
        shown = f"{ordered_on.day} {ordered_on:%B %Y}"
        raise InvestigationRefused(RESULTED_BEFORE_ORDER.format(day=shown), field="resulted_on")
    return day


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _number(value: Any, *, field: str, bad: str, too_large: str) -> float:
    """A finite number of 0 or more (not a bool, not text), at most VALUE_MAX."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvestigationRefused(bad, field=field)
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        raise InvestigationRefused(too_large, field=field) from None
    if not math.isfinite(number):
        raise InvestigationRefused(bad, field=field)
    if number < 0:
        raise InvestigationRefused(NEGATIVE if field == "value" else bad, field=field)
    if number > VALUE_MAX:
        raise InvestigationRefused(too_large, field=field)
    return number


def _whole(value: Any, *, field: str, bad: str, out_of_range: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvestigationRefused(bad, field=field)
    if not 1 <= value <= most:
        raise InvestigationRefused(out_of_range, field=field)
    return value


# Results by kind


def _units_text(analyte: Analyte) -> str:
    return ", ".join(unit.value for unit in accepted_units(analyte))


def _lab_range(analyte: Analyte, details: ResultDetails, unit: str) -> ReferenceRange | None:
    low, high = details.reference_low, details.reference_high
    if _empty(low) and _empty(high):
        return None
    bounds = [
        None
        if _empty(bound)
        else _number(bound, field=field, bad=BAD_BOUND, too_large=BOUND_TOO_LARGE)
        for bound, field in ((low, "reference_low"), (high, "reference_high"))
    ]
    try:
        return lab_reference_range(analyte, low=bounds[0], high=bounds[1], unit=unit)
    except InvalidInput:  # the only refusal left: the low bound above the high one
        raise InvestigationRefused(LOW_ABOVE_HIGH, field="reference_high") from None


def lab_result(kind: str, details: ResultDetails) -> dict[str, Any]:
    """A blood or urine result in its analyte's canonical unit, read by the core against the
    laboratory's range (else the source's): the columns it is stored in."""
    analyte = Analyte(kind)
    if _empty(details.value):
        raise InvestigationRefused(VALUE_REQUIRED, field="value")
    number = _number(details.value, field="value", bad=BAD_NUMBER, too_large=TOO_LARGE)
    units = _units_text(analyte)
    if not isinstance(details.unit, str) or not details.unit.strip():
        raise InvestigationRefused(UNIT_REQUIRED.format(units=units), field="unit")
    try:
        unit = parse_unit(analyte, details.unit)
    except InvalidInput:
        message = UNKNOWN_UNIT.format(analyte=analyte.label, units=units)
        raise InvestigationRefused(message, field="unit") from None
    # A whole number is passed as one, so the core's text says "9 mg/dL", not "9.0 mg/dL".
    shown: int | float = int(number) if number.is_integer() else number
    reading: Interpretation = READERS[analyte](
        shown, unit, reference_range=_lab_range(analyte, details, unit)
    )
    used = reading.reference_range
    return {
        "value": reading.value.value,
        "unit": reading.value.unit.value,
        "entered_value": number,
        "entered_unit": unit.value,
        "reference_low": used.low if used else None,
        "reference_high": used.high if used else None,
        "reference_source": used.source[:200] if used else "",
        "flag": reading.flag.value,
        "interpretation": reading.text,
        "interpretation_source": reading.source[:500],
        "leipzig_points": reading.leipzig_points,
    }


def _genetic(details: ResultDetails, report: str) -> dict[str, Any]:
    gene = check_text(details.gene, field="gene", label="The gene", limit=GENE_MAX_LENGTH)
    if gene and not GENE_PATTERN.fullmatch(gene):
        raise InvestigationRefused(BAD_GENE, field="gene")
    variant = check_text(
        details.variant, field="variant", label="The variant", limit=VARIANT_MAX_LENGTH
    )
    if variant and not HGVS_PATTERN.fullmatch(variant):
        raise InvestigationRefused(BAD_VARIANT, field="variant")
    classification = details.variant_classification
    if not isinstance(classification, str) or (
        classification and classification not in VariantClassification.values
    ):
        raise InvestigationRefused(BAD_CLASSIFICATION, field="variant_classification")
    if variant and not gene:
        raise InvestigationRefused(GENE_REQUIRED, field="gene")
    if variant and not classification:
        raise InvestigationRefused(CLASSIFICATION_REQUIRED, field="variant_classification")
    if classification and not variant:
        raise InvestigationRefused(CLASSIFICATION_WITHOUT_VARIANT, field="variant")
    if not variant and not report:
        raise InvestigationRefused(VARIANT_OR_REPORT, field="variant")
    return {"gene": gene, "variant": variant, "variant_classification": classification}


def _levodopa(details: ResultDetails) -> dict[str, Any]:
    dose = _whole(
        details.levodopa_dose_mg_per_day,
        field="levodopa_dose_mg_per_day",
        bad=BAD_DOSE,
        out_of_range=DOSE_OUT_OF_RANGE,
        most=LEVODOPA_DOSE_MAX_MG_PER_DAY,
    )
    days = _whole(
        details.levodopa_duration_days,
        field="levodopa_duration_days",
        bad=BAD_DURATION,
        out_of_range=DURATION_OUT_OF_RANGE,
        most=LEVODOPA_DURATION_MAX_DAYS,
    )
    response = details.levodopa_response
    if not isinstance(response, str) or response not in LevodopaResponse.values:
        raise InvestigationRefused(BAD_RESPONSE, field="levodopa_response")
    return {
        "levodopa_dose_mg_per_day": dose,
        "levodopa_duration_days": days,
        "levodopa_response": response,
    }


def _refuse_other_parts(kind: str, details: ResultDetails) -> None:
    """A part typed for another kind is refused, so nothing typed is silently dropped."""
    label = InvestigationKind(kind).label.lower()
    for field, (what, kinds) in PARTS.items():
        if kind not in kinds and not _empty(getattr(details, field)):
            message = NOT_FOR_THIS_KIND.format(label=what, kind=label)
            raise InvestigationRefused(message, field=field)


def check_result(kind: str, details: ResultDetails) -> dict[str, Any]:
    """The columns a result of ``kind`` is stored in (its date is checked on its own). A
    refusal's audit reason names no part, since the parts tell the kind of investigation."""
    try:
        return _result_columns(kind, details)
    except InvestigationRefused as refusal:
        raise InvestigationRefused(
            refusal.message, field=refusal.field, status=refusal.status, reason=RESULT_NOT_VALID
        ) from None


def _result_columns(kind: str, details: ResultDetails) -> dict[str, Any]:
    _refuse_other_parts(kind, details)
    report = check_text(details.report, field="report", label="The report", limit=REPORT_MAX_LENGTH)
    values: dict[str, Any] = {"report": report}
    if kind in LAB_KINDS:
        values |= lab_result(kind, details)
    elif kind == InvestigationKind.SLIT_LAMP:
        if not isinstance(details.kf_rings, bool):
            raise InvestigationRefused(KF_REQUIRED, field="kf_rings")
        values["kf_rings"] = details.kf_rings
    elif kind == InvestigationKind.GENETIC_PANEL:
        values |= _genetic(details, report)
    elif kind == InvestigationKind.LEVODOPA_TRIAL:
        values |= _levodopa(details)
    elif kind in REPORT_KINDS and not report:
        raise InvestigationRefused(REPORT_REQUIRED, field="report")
    return values
