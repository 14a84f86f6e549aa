"""Forms for deep brain stimulation: a system (with its leads when it is added), a lead, a
battery check, and a programming session with one group of fields per lead of the system."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from clinic.forms import AccessibleFormMixin
from clinic.records.models import Encounter
from clinic.scheduling.availability import clinic_tz
from clinic.treatment import dbs
from clinic.treatment.dbs_programming import (
    CASE,
    ProgrammingDetails,
    SettingDetails,
)
from clinic.treatment.form_fields import (
    choice,
    day,
    encounter_choices,
    encounter_id,
    flag,
    number,
    text,
    time_of_day,
    yes_no,
    yes_no_initial,
)
from clinic.treatment.models import (
    AmplitudeUnit,
    BatteryStatus,
    DbsLead,
    DbsSystem,
    DbsTarget,
    Hemisphere,
    MriStatus,
)
from clinic.treatment.models.dbs import MAX_CONTACTS, MODEL_MAX_LENGTH, NOTES_MAX_LENGTH

NO_LEAD = ""


class DbsSystemForm(AccessibleFormMixin, forms.Form):
    """A DBS system; when it is added (``with_leads``), its left and right leads too."""

    target = choice("Target", DbsTarget.choices, radio=True)
    target_other = text(
        "Other target", limit=MODEL_MAX_LENGTH, rows=1, help_text="Only for another target."
    )
    implanted_on = day("Implanted on")
    generator = choice("Generator", dbs.GENERATOR_CHOICES)
    generator_model = text(
        "Other generator's model",
        limit=MODEL_MAX_LENGTH,
        rows=1,
        help_text="Only for another generator, for example Activa PC.",
    )
    rechargeable = yes_no("Rechargeable")
    mri_status = choice("MRI status", MriStatus.choices, radio=True, initial=MriStatus.UNKNOWN)
    notes = text("Notes", limit=NOTES_MAX_LENGTH)

    def __init__(self, *args: Any, with_leads: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.with_leads = with_leads
        if not with_leads:
            return
        for side, label in Hemisphere.choices:
            self.fields[f"{side}_model"] = choice(
                f"{label} lead", [(NO_LEAD, "No lead"), *dbs.LEAD_CHOICES], required=False
            )
            self.fields[f"{side}_model_other"] = text(
                f"{label} lead: other model", limit=MODEL_MAX_LENGTH, rows=1
            )
            self.fields[f"{side}_contact_count"] = number(
                f"{label} lead: contacts", required=False, whole=True, help_text="For example 4."
            )

    def system_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.base_fields]

    def lead_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.base_fields]

    @classmethod
    def for_system(cls, system: DbsSystem) -> DbsSystemForm:
        initial = {name: getattr(system, name) for name in cls.base_fields}
        initial["rechargeable"] = yes_no_initial(system.rechargeable)
        return cls(initial=initial)

    def details(self) -> dbs.SystemDetails:
        data = dict(self.cleaned_data)
        return dbs.SystemDetails(
            target=data["target"],
            target_other=data["target_other"],
            implanted_on=data["implanted_on"],
            generator=data["generator"],
            generator_model=data["generator_model"],
            rechargeable=flag(data["rechargeable"]),
            mri_status=data["mri_status"],
            notes=data["notes"],
        )

    def leads(self) -> list[dbs.LeadDetails]:
        data = self.cleaned_data
        return [
            dbs.LeadDetails(
                hemisphere=side,
                model=data[f"{side}_model"],
                model_other=data[f"{side}_model_other"],
                contact_count=data[f"{side}_contact_count"],
            )
            for side in Hemisphere.values
            if self.with_leads and data.get(f"{side}_model")
        ]


class DbsLeadForm(AccessibleFormMixin, forms.Form):
    """A lead in one hemisphere (the page's)."""

    model = choice("Lead model", dbs.LEAD_CHOICES)
    model_other = text(
        "Other lead's model", limit=MODEL_MAX_LENGTH, rows=1, help_text="Only for another lead."
    )
    contact_count = number("Number of contacts", whole=True, help_text=f"From 1 to {MAX_CONTACTS}.")

    @classmethod
    def for_lead(cls, lead: DbsLead | None) -> DbsLeadForm:
        if lead is None:
            return cls(initial={"contact_count": 4})
        return cls(initial={name: getattr(lead, name) for name in cls.base_fields})

    def details(self, hemisphere: str) -> dbs.LeadDetails:
        return dbs.LeadDetails(hemisphere=hemisphere, **self.cleaned_data)


class BatteryCheckForm(AccessibleFormMixin, forms.Form):
    """A reading of the generator's battery."""

    checked_on = day("Checked on")
    status = choice("Battery status", BatteryStatus.choices, radio=True)
    percent = number(
        "Charge (%)", required=False, whole=True, help_text="If the programmer shows it."
    )

    def details(self) -> dbs.BatteryDetails:
        return dbs.BatteryDetails(**self.cleaned_data)


POLARITY_CHOICES = [("off", "Off"), ("-", "Negative (cathode)"), ("+", "Positive (anode)")]
CASE_CHOICES = [("+", "Positive (anode)"), ("off", "Off"), ("-", "Negative (cathode)")]


class DbsProgrammingForm(AccessibleFormMixin, forms.Form):
    """A programming session: when, the encounter, side effects and notes, and for each lead
    of the system a setting (left blank: no setting for that hemisphere)."""

    programmed_on = day("Date")
    programmed_time = time_of_day("Time", help_text="UK time.")
    encounter = choice("Encounter", [], required=False)
    side_effects = text("Side effects", limit=NOTES_MAX_LENGTH)
    notes = text("Notes", limit=NOTES_MAX_LENGTH)

    def __init__(
        self, *args: Any, leads: list[DbsLead], encounters: list[Encounter], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.leads = sorted(leads, key=lambda lead: Hemisphere.values.index(lead.hemisphere))
        self.fields["encounter"].choices = encounter_choices(encounters)
        now = timezone.now().astimezone(clinic_tz())
        self.fields["programmed_on"].initial = now.date()
        self.fields["programmed_time"].initial = now.time().replace(second=0, microsecond=0)
        for lead in self.leads:
            self._lead_fields(lead)

    def _lead_fields(self, lead: DbsLead) -> None:
        side = lead.hemisphere
        label = lead.get_hemisphere_display()
        self.fields[f"{side}_amplitude"] = number(
            f"{label}: amplitude",
            required=False,
            help_text="Leave blank for no setting on this side.",
        )
        self.fields[f"{side}_amplitude_unit"] = choice(
            f"{label}: unit",
            AmplitudeUnit.choices,
            radio=True,
            required=False,
            initial=AmplitudeUnit.VOLT,
        )
        self.fields[f"{side}_pulse_width_us"] = number(
            f"{label}: pulse width (µs)", required=False, whole=True
        )
        self.fields[f"{side}_frequency_hz"] = number(f"{label}: frequency (Hz)", required=False)
        for n in range(lead.contact_count):
            self.fields[f"{side}_contact_{n}"] = choice(
                f"{label}: contact {n}", POLARITY_CHOICES, initial="off"
            )
            self.fields[f"{side}_impedance_{n}"] = number(
                f"{label}: contact {n} impedance (ohms)", required=False, whole=True
            )
        self.fields[f"{side}_{CASE}"] = choice(
            f"{label}: case",
            CASE_CHOICES,
            initial="+",
        )

    def lead_groups(self) -> list[dict[str, Any]]:
        """The fields of each lead, for the template (one fieldset per hemisphere)."""
        groups = []
        for lead in self.leads:
            side = lead.hemisphere
            groups.append(
                {
                    "lead": lead,
                    "setting": [
                        self[f"{side}_{name}"]
                        for name in (
                            "amplitude",
                            "amplitude_unit",
                            "pulse_width_us",
                            "frequency_hz",
                        )
                    ],
                    "contacts": [
                        (n, self[f"{side}_contact_{n}"], self[f"{side}_impedance_{n}"])
                        for n in range(lead.contact_count)
                    ],
                    "case": self[f"{side}_{CASE}"],
                }
            )
        return groups

    def programmed_at(self) -> datetime:
        data = self.cleaned_data
        return datetime.combine(data["programmed_on"], data["programmed_time"], tzinfo=clinic_tz())

    def _setting(self, lead: DbsLead) -> SettingDetails | None:
        data = self.cleaned_data
        side = lead.hemisphere
        if data.get(f"{side}_amplitude") is None:
            return None
        contacts = {str(n): data[f"{side}_contact_{n}"] for n in range(lead.contact_count)}
        contacts[CASE] = data[f"{side}_{CASE}"]
        impedances = {
            str(n): data[f"{side}_impedance_{n}"]
            for n in range(lead.contact_count)
            if data.get(f"{side}_impedance_{n}") is not None
        }
        return SettingDetails(
            hemisphere=side,
            contacts=contacts,
            amplitude=data[f"{side}_amplitude"],
            amplitude_unit=data[f"{side}_amplitude_unit"],
            pulse_width_us=data[f"{side}_pulse_width_us"],
            frequency_hz=data[f"{side}_frequency_hz"],
            impedances=impedances,
        )

    def details(self) -> ProgrammingDetails:
        data = self.cleaned_data
        settings = [s for s in (self._setting(lead) for lead in self.leads) if s is not None]
        return ProgrammingDetails(
            programmed_at=self.programmed_at(),
            settings=settings,
            encounter=encounter_id(data["encounter"]),
            side_effects=data["side_effects"],
            notes=data["notes"],
        )
