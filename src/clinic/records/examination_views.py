"""Examination pages for clinicians: the examination by body site (a body diagram, enhanced by
clinic/body-diagram.js, and the equivalent form that works without JavaScript), the encounter
page's section with the classification beside the findings, and the decision on the
classification. The services and selectors check access (reception, administrators and
patients are answered 404 for an encounter's id, as on the encounter pages) and audit."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import alerts, classification, examination, examination_selectors
from clinic.records.access import AccessRefused
from clinic.records.classification import ClassificationRefused, ReviewNotFound
from clinic.records.encounters import LOCKED, NOT_AUTHOR, EncounterNotFound, EncounterRefused
from clinic.records.examination_forms import DecisionForm, ExaminationForm
from clinic.records.examination_selectors import ExaminationSection
from clinic.records.models import Encounter

SAVED = "Examination saved."
CONFIRMED = "Classification confirmed."
OVERRIDDEN = "Classification overridden. Your classification and the core's are both kept."

# The body diagram's shapes in its viewBox (0 0 320 600): x, y, width, height, corner radius.
# The figure faces the viewer, so the patient's right limbs are drawn on the viewer's left.
SHAPES: dict[str, tuple[int, int, int, int, int]] = {
    "upper_face": (112, 6, 96, 42, 21),
    "lower_face": (112, 50, 96, 32, 10),
    "jaw_tongue": (122, 84, 76, 30, 14),
    "neck": (120, 118, 80, 42, 10),
    "larynx": (212, 118, 52, 42, 10),
    "trunk": (96, 166, 128, 188, 20),
    "upper_limb_right": (40, 166, 50, 210, 22),
    "upper_limb_left": (230, 166, 50, 210, 22),
    "lower_limb_right": (98, 360, 58, 232, 22),
    "lower_limb_left": (164, 360, 58, 232, 22),
}
# The larynx sits beside the neck, not on it, so that each is a whole target of its own.
SHAPE_ORDER = (
    "upper_face",
    "lower_face",
    "jaw_tongue",
    "neck",
    "larynx",
    "trunk",
    "upper_limb_right",
    "upper_limb_left",
    "lower_limb_right",
    "lower_limb_left",
)


@dataclass(frozen=True)
class Shape:
    """One body site of the diagram, where it is drawn and whether it is marked."""

    key: str
    label: str
    x: int
    y: int
    width: int
    height: int
    radius: int
    checked: bool

    @property
    def tick_x(self) -> int:
        # The neck's middle lies under the larynx: its tick goes to the side.
        return self.x + self.width - 12 if self.key == "neck" else self.x + self.width // 2

    @property
    def tick_y(self) -> int:
        return self.y + self.height // 2 + 8


def diagram(form: ExaminationForm) -> list[Shape]:
    """The diagram's shapes, marked as the form's "Involved" boxes are."""
    fields = {group.site.key: group for group in form.site_fields()}
    shapes = []
    for key in SHAPE_ORDER:
        x, y, width, height, radius = SHAPES[key]
        group = fields[key]
        shapes.append(
            Shape(key, group.site.label, x, y, width, height, radius, checked=group.checked)
        )
    return shapes


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def section_page(request: HttpRequest, encounter: Encounter) -> dict[str, object]:
    """The encounter page's context for the examination section (None for non-clinicians)."""
    section = examination_selectors.examination_section(
        context=_context(request), encounter=encounter
    )
    return {"examination_section": section, "decision_form": DecisionForm()}


def _for_edit(request: HttpRequest, encounter_id: int) -> ExaminationSection:
    try:
        return examination_selectors.examination_for_edit(
            context=_context(request), encounter_id=encounter_id
        )
    except EncounterNotFound:
        raise Http404("No such encounter") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _read_only_reason(section: ExaminationSection) -> str:
    encounter = section.encounter
    if encounter.is_signed:
        return LOCKED
    return NOT_AUTHOR.format(name=encounter.clinician.full_name)


def _form_page(
    request: HttpRequest,
    section: ExaminationSection,
    form: ExaminationForm | None,
    *,
    refusal: str = "",
    conflict: bool = False,
    status: int = 200,
) -> HttpResponse:
    if not section.can_edit:  # signed, or another clinician's draft: read-only
        form = None
    elif form is None:
        form = ExaminationForm.for_examination(section.examination)
    page = {
        "encounter": section.encounter,
        "section": section,
        "form": form,
        "site_fields": form.site_fields() if form is not None else [],
        "shapes": diagram(form) if form is not None else [],
        "refusal": refusal or ("" if section.can_edit else _read_only_reason(section)),
        "conflict": conflict,
        "alerts": alerts.active_alerts(section.encounter.patient),
    }
    return render(request, "records/examination_form.html", page, status=status)


def _refused_form(
    posted: QueryDict, form: ExaminationForm, refusal: EncounterRefused, section: ExaminationSection
) -> tuple[ExaminationForm, str, bool]:
    """The form to show again after a refusal, the message for the top, and whether the
    saved examination changed meanwhile (then the form carries its new version)."""
    if refusal.message == examination.STALE:
        data = posted.copy()
        saved = section.examination
        data["version"] = saved.updated_at.isoformat() if saved is not None else "new"
        fresh = ExaminationForm(data)
        fresh.is_valid()
        fresh.add_error(None, refusal.message)
        return fresh, "", True
    if refusal.field in form.fields:
        form.add_error(refusal.field, refusal.message)
        return form, "", False
    return form, refusal.message, False


@login_required
@require_http_methods(["GET", "POST"])
def examination_edit(request: HttpRequest, encounter_id: int) -> HttpResponse:
    """Record or change the examination of a draft (its clinician): the body diagram and
    the equivalent form. Others see what is saved, read-only."""
    if request.method == "GET":
        return _form_page(request, _for_edit(request, encounter_id), None)
    form = ExaminationForm(request.POST)
    if not form.is_valid():
        return _form_page(request, _for_edit(request, encounter_id), form, status=400)
    try:
        examination.examination_save(
            context=_context(request),
            encounter_id=encounter_id,
            sites=form.sites(),
            associated_features=form.cleaned_data["associated_features"],
            notes=form.cleaned_data["notes"],
            expected_updated_at=form.cleaned_data["version"],
        )
    except EncounterNotFound:
        raise Http404("No such encounter") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except EncounterRefused as refusal:
        section = _for_edit(request, encounter_id)
        shown, message, conflict = _refused_form(request.POST, form, refusal, section)
        return _form_page(
            request, section, shown, refusal=message, conflict=conflict, status=refusal.status
        )
    messages.success(request, SAVED)
    return redirect(reverse("records:encounter-detail", args=[encounter_id]) + "#examination")


def _decision_page(
    request: HttpRequest,
    review_id: int,
    form: DecisionForm | None = None,
    *,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    try:
        section = examination_selectors.section_for_review(
            context=_context(request), review_id=review_id
        )
    except ReviewNotFound:
        raise Http404("No such classification") from None
    except AccessRefused as error:
        raise error.page_error() from None
    page = {
        "encounter": section.encounter,
        "examination_section": section,
        "decision_form": form or DecisionForm(),
        "refusal": refusal,
        "alerts": alerts.active_alerts(section.encounter.patient),
    }
    return render(request, "records/classification_decide.html", page, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def classification_decide(request: HttpRequest, review_id: int) -> HttpResponse:
    """Confirm or override the classification shown (the encounter's author, on a draft).
    A classification replaced since the page was shown is not decided unseen (409)."""
    if request.method == "GET":
        return _decision_page(request, review_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _decision_page(request, review_id, form, status=400)
    data = form.cleaned_data
    try:
        if data["decision"] == "confirm":
            review = classification.classification_confirm(
                context=_context(request), review_id=review_id
            )
        else:
            review = classification.classification_override(
                context=_context(request),
                review_id=review_id,
                distribution=data["distribution"],
                statement=data["statement"],
                reason=data["reason"],
            )
    except ReviewNotFound:
        raise Http404("No such classification") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except ClassificationRefused as refusal:
        message = refusal.message
        if refusal.field in form.fields:
            form.add_error(refusal.field, refusal.message)
            message = ""
        return _decision_page(request, review_id, form, refusal=message, status=refusal.status)
    messages.success(request, CONFIRMED if data["decision"] == "confirm" else OVERRIDDEN)
    url = reverse("records:encounter-detail", args=[review.encounter_id])
    return redirect(url + "#classification")
