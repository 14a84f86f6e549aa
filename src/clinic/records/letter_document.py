"""What a clinic letter says, gathered from the record, and the letter rendered as HTML and as
a PDF (docs/clinical-record.md, letters).

The letter says only what is recorded: the active problem list, the clinician's final
classification of the encounter (the core's when confirmed, theirs when overridden; an
unreviewed one is left out), the history and the examination by region, then the plan and
comments the clinician wrote. Every value reaches the page through the template's
autoescaping. The document carries its own CSS and uses the system's fonts: nothing is
fetched when it is rendered (no network at run time).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from clinic.accounts.models import User
from clinic.directory.models import Site
from clinic.records.models import (
    ClassificationReview,
    ClinicalStatus,
    Diagnosis,
    Encounter,
    Examination,
    History,
    Letter,
    Patient,
    RegionFinding,
    ReviewDecision,
    VerificationStatus,
)
from dystonia.anatomy import Region
from dystonia.classification import Distribution, NamedForm
from dystonia.coding import CodeSystem

# How a code's system is named in a letter: "ICD-10 G24.3".
SYSTEM_NAMES = {
    CodeSystem.ICD10.value: "ICD-10",
    CodeSystem.ICD10_CM.value: "ICD-10-CM",
    CodeSystem.ICD11_MMS.value: "ICD-11",
    CodeSystem.SNOMED_CT.value: "SNOMED CT",
}
# The core marks its category codes (dystonia as a whole) with this ``applies_to``.
CATEGORY_APPLIES_TO = "dystonia"
ROLE_LABELS = {"gp": "GP", "referrer": "Referrer", "patient": "Patient"}
DIAGNOSES_SHOWN = 30
_BODY = re.compile(r"<body[^>]*>(?P<body>.*)</body>", re.DOTALL)


@dataclass(frozen=True)
class Addressee:
    """Someone the letter goes to, as recorded when it was drafted or sent."""

    role: str  # "gp", "referrer" or "patient"
    name: str
    organisation: str
    address: str
    email: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def as_dict(self) -> dict[str, str]:
        return {
            "role": self.role,
            "name": self.name,
            "organisation": self.organisation,
            "address": self.address,
            "email": self.email,
        }

    @classmethod
    def from_dict(cls, value: Any) -> Addressee:
        """From a frozen addressee (``as_dict()``); missing or odd values become empty."""
        item = value if isinstance(value, dict) else {}
        fields = ("role", "name", "organisation", "address", "email")
        return cls(**{key: str(item.get(key) or "") for key in fields})


def gp_of(patient: Patient) -> Addressee:
    return Addressee(
        role="gp",
        name=patient.gp_name,
        organisation=patient.gp_practice,
        address=patient.gp_address,
        email=patient.gp_email,
    )


def referrer_of(patient: Patient) -> Addressee:
    return Addressee(
        role="referrer",
        name=patient.referrer_name,
        organisation=patient.referrer_organisation,
        address=patient.referrer_address,
        email=patient.referrer_email,
    )


def patient_addressee(patient: Patient) -> Addressee:
    address = ", ".join(part for part in (patient.address, patient.postcode) if part)
    return Addressee(
        role="patient", name=patient.full_name, organisation="", address=address, email=""
    )


def addressees_of(letter: Letter, patient: Patient) -> list[Addressee]:
    """Whom the letter goes to: the frozen list once sent, else as the record says now."""
    if letter.is_sent:
        return [Addressee.from_dict(item) for item in letter.addressees]
    chosen = [
        (letter.to_gp, gp_of),
        (letter.to_referrer, referrer_of),
        (letter.copy_to_patient, patient_addressee),
    ]
    return [build(patient) for wanted, build in chosen if wanted]


@dataclass(frozen=True)
class CodeLine:
    system: str
    code: str
    display: str


@dataclass(frozen=True)
class DiagnosisLine:
    label: str
    side: str
    provisional: bool
    codes: list[CodeLine]


@dataclass(frozen=True)
class ClassificationSummary:
    """The clinician's final classification of the encounter."""

    title: str
    statement: str
    forms: list[str]
    age_band: str
    overridden: bool
    codes: list[CodeLine]


@dataclass(frozen=True)
class RegionLine:
    label: str
    posture: str
    movement: str
    tremor: bool
    task_specific: bool


@dataclass(frozen=True)
class LetterContent:
    """Everything the letter template shows."""

    letter: Letter
    patient: Patient
    encounter: Encounter
    site: Site
    author: User
    author_title: str
    addressees: list[Addressee]
    diagnoses: list[DiagnosisLine]
    classification: ClassificationSummary | None
    classification_pending: bool  # reviewed by nobody yet, so left out
    history: History | None
    onset_region: str
    regions: list[RegionLine]
    associated: list[str]
    on: date
    draft: bool

    @property
    def greeting(self) -> str:
        first = self.addressees[0] if self.addressees else None
        return f"Dear {first.name}" if first and first.name else "Dear colleague"

    @property
    def copies(self) -> list[Addressee]:
        return self.addressees[1:]


def _words(value: str) -> str:
    return value.replace("_", " ")


def _codes(raw: object, *, category_only: bool = False) -> list[CodeLine]:
    """Well-formed codes (``Code.as_dict()`` documents); the rest are skipped."""
    lines = []
    for code in raw if isinstance(raw, list) else []:
        if not isinstance(code, dict) or not isinstance(code.get("code"), str):
            continue
        if category_only and code.get("applies_to") != CATEGORY_APPLIES_TO:
            continue
        system = str(code.get("system", ""))
        lines.append(
            CodeLine(SYSTEM_NAMES.get(system, system), code["code"], str(code.get("display", "")))
        )
    return lines


def distribution_title(distribution: str) -> str:
    """ "Segmental dystonia"; hemidystonia is a name of its own (dystonia.classification)."""
    if distribution == Distribution.HEMIDYSTONIA:
        return "Hemidystonia"
    return f"{distribution.capitalize()} dystonia" if distribution else "Dystonia"


def _form_label(value: object) -> str:
    if isinstance(value, str) and value in NamedForm._value2member_map_:
        return NamedForm(value).label
    return ""


def classification_of(review: ClassificationReview | None) -> ClassificationSummary | None:
    """The final classification of a decided review: the core's result and codes when
    confirmed; the clinician's distribution and statement when overridden, with only the
    category codes (the core's others were derived from the classification they rejected,
    as on the problem list). ``None`` while nobody has confirmed or overridden it."""
    if review is None or review.decision == ReviewDecision.PENDING:
        return None
    assessment = review.assessment if isinstance(review.assessment, dict) else {}
    band = assessment.get("age_at_onset_band")
    age_band = _words(band) if isinstance(band, str) else ""
    if review.decision == ReviewDecision.OVERRIDDEN:
        return ClassificationSummary(
            title=distribution_title(review.clinician_distribution),
            statement=review.clinician_statement,
            forms=[],
            age_band=age_band,
            overridden=True,
            codes=_codes(assessment.get("codes"), category_only=True),
        )
    details = assessment.get("form_details")
    forms = []
    for item in details if isinstance(details, list) else []:
        label = _form_label(item.get("form")) if isinstance(item, dict) else ""
        if label:
            forms.append(f"{label} (suspected)" if item.get("suspected") else label)
    return ClassificationSummary(
        title=distribution_title(review.distribution),
        statement="",
        forms=forms,
        age_band=age_band,
        overridden=False,
        codes=_codes(assessment.get("codes")),
    )


def _region_label(region: str, side: str) -> str:
    name = Region(region).label if region in Region._value2member_map_ else _words(region)
    return f"{side} {name}".strip().capitalize()


def _regions(examination: Examination | None) -> list[RegionLine]:
    if examination is None:
        return []
    findings: list[RegionFinding] = list(examination.regions.all())
    return [
        RegionLine(
            label=_region_label(f.region, f.side),
            posture=f.posture,
            movement=f.movement,
            tremor=f.tremor,
            task_specific=f.task_specific,
        )
        for f in findings
    ]


def _associated(examination: Examination | None) -> list[str]:
    features = examination.associated_features if examination is not None else []
    return (
        [_words(str(f)) for f in features if isinstance(f, str)]
        if isinstance(features, list)
        else []
    )


def _diagnoses(patient: Patient) -> list[DiagnosisLine]:
    """The active problem list, without what was entered in error or refuted."""
    rows = (
        Diagnosis.objects.filter(patient=patient, clinical_status=ClinicalStatus.ACTIVE)
        .exclude(
            verification_status__in=[
                VerificationStatus.ENTERED_IN_ERROR,
                VerificationStatus.REFUTED,
            ]
        )
        .order_by("-diagnosed_on", "-pk")[:DIAGNOSES_SHOWN]
    )
    return [
        DiagnosisLine(
            label=d.label,
            side=d.get_side_display() if d.side else "",
            provisional=d.verification_status == VerificationStatus.PROVISIONAL,
            codes=_codes(d.codes),
        )
        for d in rows
    ]


def _one_to_one(encounter: Encounter, name: str) -> Any:
    try:
        return getattr(encounter, name)
    except (History.DoesNotExist, Examination.DoesNotExist):
        return None


def letter_content(letter: Letter, *, on: date, draft: bool) -> LetterContent:
    """Gather the letter's content in a fixed number of queries (the letter with its
    encounter, site, patient, history, examination and author; the regions; the current
    classification review; the problem list), whatever the record holds."""
    letter = (
        Letter.objects.select_related(
            "patient",
            "author__practitioner",
            "encounter__site",
            "encounter__clinician",
            "encounter__history",
            "encounter__examination",
        )
        .defer("pdf", "html")
        .get(pk=letter.pk)
    )
    encounter = letter.encounter
    patient = letter.patient
    history: History | None = _one_to_one(encounter, "history")
    examination: Examination | None = _one_to_one(encounter, "examination")
    review = (
        ClassificationReview.objects.filter(encounter=encounter)
        .order_by("-created_at", "-pk")
        .first()
    )
    practitioner = letter.author.practitioner
    onset = ""
    if history is not None and history.first_region:
        onset = _region_label(history.first_region, history.first_side)
    return LetterContent(
        letter=letter,
        patient=patient,
        encounter=encounter,
        site=encounter.site,
        author=letter.author,
        author_title=practitioner.job_title if practitioner is not None else "",
        addressees=addressees_of(letter, patient),
        diagnoses=_diagnoses(patient),
        classification=classification_of(review),
        classification_pending=review is not None and review.decision == ReviewDecision.PENDING,
        history=history,
        onset_region=onset,
        regions=_regions(examination),
        associated=_associated(examination),
        on=on,
        draft=draft,
    )


def render_letter_html(content: LetterContent) -> str:
    """The letter as a whole HTML document (records/letter_document.html), CSS inline."""
    return render_to_string(
        "records/letter_document.html", {"c": content, "clinic_name": settings.CLINIC_NAME}
    )


def _weasyprint() -> Any:
    """WeasyPrint, imported when a PDF is first made (it is slow to import). Without
    Debian's libharfbuzz-subset0 it warns at import that a future version will need it:
    PDFs are made all the same, and the test suite turns warnings into errors."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        import weasyprint  # type: ignore[import-untyped]  # noqa: PLC0415 - see above; no type hints

    return weasyprint


def render_letter_pdf(html: str) -> bytes:
    """The PDF of a letter document (A4, from its print CSS)."""
    weasyprint = _weasyprint()
    # Letters fetch nothing: no network at run time, and no file from the server's disk.
    nothing = weasyprint.urls.URLFetcher(allowed_protocols=())
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=nothing)
    pdf = document.write_pdf()
    if not isinstance(pdf, bytes):  # write_pdf returns bytes when given no target
        raise TypeError("WeasyPrint returned no PDF")
    return pdf


def letter_body(html: str) -> SafeString:
    """The inside of a rendered letter's <body>, to show within a page (the page's own CSS
    styles it: the document's inline <style> would be refused by the site's CSP). Safe: the
    document was rendered by our template with every value escaped."""
    found = _BODY.search(html)
    return mark_safe(found.group("body") if found else "")  # noqa: S308 - our own rendering
