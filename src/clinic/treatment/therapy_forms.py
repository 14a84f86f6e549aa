"""Forms for therapy (a referral, a session) and surgery (a procedure)."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.forms import AccessibleFormMixin
from clinic.records.models import Encounter
from clinic.treatment import surgery, therapy
from clinic.treatment.form_fields import (
    choice,
    day,
    encounter_choices,
    encounter_id,
    flag,
    text,
    yes_no,
)
from clinic.treatment.models import (
    Discipline,
    Procedure,
    ProcedureKind,
    ProcedureSide,
    ReferralStatus,
    TherapyReferral,
)
from clinic.treatment.models.surgery import NAME_MAX_LENGTH, TEXT_MAX_LENGTH
from clinic.treatment.models.therapy import (
    GOALS_MAX_LENGTH,
    OUTCOME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    SESSION_TEXT_MAX_LENGTH,
)

# A list of names typed one per line: the most characters the box takes.
LINES_MAX_LENGTH = (surgery.ITEM_MAX_LENGTH + 1) * surgery.ITEMS_MAX


class _WithEncounter(AccessibleFormMixin, forms.Form):
    encounter = choice("Encounter", [], required=False)

    def __init__(self, *args: Any, encounters: list[Encounter], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["encounter"].choices = encounter_choices(encounters)


class ReferralForm(_WithEncounter):
    """A referral to a therapy, its status and, once discharged, the day and outcome."""

    discipline = choice("Therapy", Discipline.choices, radio=True)
    referred_on = day("Referred on")
    reason = text("Reason", limit=REASON_MAX_LENGTH)
    goals = text("Goals", limit=GOALS_MAX_LENGTH)
    status = choice("Status", ReferralStatus.choices, radio=True, initial=ReferralStatus.REFERRED)
    discharged_on = day("Discharged on", required=False, help_text="Only once discharged.")
    outcome = text("Outcome", limit=OUTCOME_MAX_LENGTH)
    field_order = (
        "discipline",
        "referred_on",
        "reason",
        "goals",
        "status",
        "discharged_on",
        "outcome",
        "encounter",
    )

    @classmethod
    def for_referral(
        cls, referral: TherapyReferral, *, encounters: list[Encounter]
    ) -> ReferralForm:
        initial = {name: getattr(referral, name) for name in cls.base_fields if name != "encounter"}
        initial["encounter"] = str(referral.encounter_id or "")
        return cls(initial=initial, encounters=encounters)

    def details(self) -> therapy.ReferralDetails:
        data = dict(self.cleaned_data)
        data["encounter"] = encounter_id(data["encounter"])
        return therapy.ReferralDetails(**data)


class TherapySessionForm(AccessibleFormMixin, forms.Form):
    """A session of a therapy."""

    held_on = day("Held on")
    attended = yes_no("Attended")
    notes = text("Notes", limit=SESSION_TEXT_MAX_LENGTH)
    progress = text("Progress", limit=SESSION_TEXT_MAX_LENGTH)

    def details(self) -> therapy.SessionDetails:
        data = dict(self.cleaned_data)
        data["attended"] = flag(data["attended"])
        return therapy.SessionDetails(**data)


def lines(value: str) -> list[str]:
    """Names typed one per line."""
    return [line for line in value.splitlines() if line.strip()]


class ProcedureForm(_WithEncounter):
    """A procedure: its kind (and name, for another), day, surgeon, hospital, side, nerves and
    muscles (one per line), outcome and complications."""

    kind = choice("Procedure", ProcedureKind.choices, radio=True)
    name = text(
        "Name of the procedure",
        limit=NAME_MAX_LENGTH,
        rows=1,
        help_text="Only for another procedure.",
    )
    performed_on = day("Date")
    surgeon = text("Surgeon", limit=NAME_MAX_LENGTH, rows=1)
    hospital = text("Hospital", limit=NAME_MAX_LENGTH, rows=1)
    side = choice(
        "Side",
        [("", "Not applicable"), *ProcedureSide.choices],
        required=False,
        radio=True,
        initial="",
    )
    nerves = text("Nerves", limit=LINES_MAX_LENGTH, rows=4, help_text="One per line.")
    muscles = text("Muscles", limit=LINES_MAX_LENGTH, rows=4, help_text="One per line.")
    outcome = text("Outcome", limit=TEXT_MAX_LENGTH)
    complications = text("Complications", limit=TEXT_MAX_LENGTH)
    field_order = (
        "kind",
        "name",
        "performed_on",
        "surgeon",
        "hospital",
        "side",
        "nerves",
        "muscles",
        "outcome",
        "complications",
        "encounter",
    )

    @classmethod
    def for_procedure(cls, procedure: Procedure, *, encounters: list[Encounter]) -> ProcedureForm:
        initial = {
            name: getattr(procedure, name) for name in cls.base_fields if name != "encounter"
        }
        initial["nerves"] = "\n".join(procedure.nerves or [])
        initial["muscles"] = "\n".join(procedure.muscles or [])
        initial["encounter"] = str(procedure.encounter_id or "")
        return cls(initial=initial, encounters=encounters)

    def details(self) -> surgery.ProcedureDetails:
        data = dict(self.cleaned_data)
        data["encounter"] = encounter_id(data["encounter"])
        data["nerves"] = lines(data["nerves"])
        data["muscles"] = lines(data["muscles"])
        return surgery.ProcedureDetails(**data)
