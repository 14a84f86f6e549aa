"""No input a client can send to the treatment pages or API gives a 500 (DESIGN.md): generated
form posts (the page's own values with some broken) and generated JSON bodies (the endpoint's
fields with any JSON, or bytes that are not JSON), sent by a clinician. Whatever comes back is a
2xx, a redirect or a 4xx, and a 4xx writes nothing."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta

import pytest
from django import forms as django_forms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.scheduling.availability import local_today
from clinic.treatment import medication, therapy
from clinic.treatment.dbs_forms import (
    BatteryCheckForm,
    DbsLeadForm,
    DbsProgrammingForm,
    DbsSystemForm,
)
from clinic.treatment.medication_forms import MedicationForm, MedicationStopForm, TitrationStepForm
from clinic.treatment.models import (
    BatteryCheck,
    DbsLead,
    DbsProgramming,
    DbsSetting,
    DbsSystem,
    Medication,
    Procedure,
    TherapyReferral,
    TherapySession,
    TitrationStep,
)
from clinic.treatment.therapy_forms import ProcedureForm, ReferralForm, TherapySessionForm
from tests.clinic.records.test_encounters import context_of
from tests.clinic.treatment.helpers import add_system
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150")) // 3
FUZZ = settings(
    max_examples=max(10, EXAMPLES),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TABLES = (
    Medication,
    TitrationStep,
    TherapyReferral,
    TherapySession,
    Procedure,
    DbsSystem,
    DbsLead,
    BatteryCheck,
    DbsProgramming,
    DbsSetting,
)
TOMORROW = local_today() + timedelta(days=1)
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "<script>alert(1)</script>",
    "{{ request }}",
    "x" * 10_001,
    "-1",
    "0",
    "-0",
    "1.5",
    "2.555",
    "1e309",
    "NaN",
    "Infinity",
    "9" * 30,
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    TOMORROW.isoformat(),
    "other",
    "off",
    "-",
    "+",
]
PAGE_VALUE = st.text(max_size=120) | st.sampled_from(NASTY)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=120)
    | st.sampled_from([*NASTY, "2023-03-01", "2023-03-01T10:00:00+00:00", "left", "mg", "V", "mA"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)


def _rows() -> list[list[dict]]:
    return [list(model.objects.order_by("pk").values()) for model in TABLES]


def _usual(field: django_forms.Field) -> st.SearchStrategy[object]:
    """What the page itself would send for a field."""
    blank = [] if field.required else [""]
    if isinstance(field, django_forms.ChoiceField):
        offered = [str(value) for value, _ in field.choices if value != ""]
        return st.sampled_from([*offered, *blank] or [""])
    if isinstance(field, django_forms.DateField):
        return st.sampled_from(["2023-03-01", "01/03/2023", *blank])
    if isinstance(field, django_forms.TimeField):
        return st.sampled_from(["10:00", *blank])
    if isinstance(field, django_forms.IntegerField | django_forms.DecimalField):
        return st.sampled_from(["4", "130", "500", *blank])
    return st.sampled_from(["Some words", *blank])


def _form_data(data: st.DataObject, form: django_forms.Form) -> dict[str, object]:
    """The page's values, with some fields broken or left out."""
    values = {name: data.draw(_usual(field)) for name, field in form.fields.items()}
    for name in data.draw(st.lists(st.sampled_from(sorted(values)), max_size=3, unique=True)):
        if data.draw(st.booleans()):
            values.pop(name)
        else:
            values[name] = data.draw(PAGE_VALUE)
    return values


@pytest.fixture
def ward(unit):
    """A clinician's patient with one of everything."""
    context = context_of(unit["clinician"])
    patient = unit["patient"]
    drug = medication.medication_add(
        context=context,
        patient_id=patient.pk,
        details=medication.MedicationDetails(drug="Baclofen", started_on=date(2023, 1, 1)),
        first_dose=medication.DoseDetails(dose=5, unit="mg", times_per_day=3),
    )
    referral = therapy.referral_add(
        context=context,
        patient_id=patient.pk,
        details=therapy.ReferralDetails(discipline="physiotherapy", referred_on=date(2023, 1, 1)),
    )
    system = add_system(unit)
    return {
        "patient": patient.pk,
        "medication": drug.pk,
        "referral": referral.pk,
        "system": system.pk,
        "leads": list(DbsLead.objects.filter(system=system)),
    }


# Each page's form (built with the ward's leads, for the programming form's fields).
FORMS = {
    "/records/patients/{patient}/treatment/medications/new/": lambda _leads: MedicationForm(
        encounters=[], with_dose=True
    ),
    "/records/medications/{medication}/edit/": lambda _leads: MedicationForm(encounters=[]),
    "/records/medications/{medication}/stop/": lambda _leads: MedicationStopForm(),
    "/records/medications/{medication}/steps/new/": lambda _leads: TitrationStepForm(),
    "/records/patients/{patient}/treatment/therapy/new/": lambda _leads: ReferralForm(
        encounters=[]
    ),
    "/records/therapy-referrals/{referral}/edit/": lambda _leads: ReferralForm(encounters=[]),
    "/records/therapy-referrals/{referral}/sessions/new/": lambda _leads: TherapySessionForm(),
    "/records/patients/{patient}/treatment/procedures/new/": lambda _leads: ProcedureForm(
        encounters=[]
    ),
    "/records/patients/{patient}/treatment/dbs/new/": lambda _leads: DbsSystemForm(with_leads=True),
    "/records/dbs-systems/{system}/edit/": lambda _leads: DbsSystemForm(),
    "/records/dbs-systems/{system}/leads/left/": lambda _leads: DbsLeadForm(),
    "/records/dbs-systems/{system}/battery/new/": lambda _leads: BatteryCheckForm(),
    "/records/dbs-systems/{system}/programming/new/": lambda leads: DbsProgrammingForm(
        leads=leads, encounters=[]
    ),
}


@FUZZ
@given(path=st.sampled_from(sorted(FORMS)), data=st.data())
def test_the_treatment_pages_never_fail_with_a_500(client, ward, unit, path, data):
    sign_in(client, unit["clinician"])
    values = _form_data(data, FORMS[path](ward["leads"]))
    before = _rows()

    ids = {k: v for k, v in ward.items() if k != "leads"}
    response = client.post(path.format(**ids), values)

    assert response.status_code < 500, (path, values)
    if response.status_code >= 400:
        assert _rows() == before


API = {
    ("post", "/api/v1/patients/{patient}/medications"): [
        "drug",
        "started_on",
        "stopped_on",
        "stop_reason",
        "effect",
        "first_dose",
        "encounter_id",
        "dopamine_receptor_blocker",
    ],
    ("put", "/api/v1/medications/{medication}"): [
        "drug",
        "started_on",
        "stopped_on",
        "stop_reason",
    ],
    ("post", "/api/v1/medications/{medication}/stop"): ["stopped_on", "stop_reason"],
    ("post", "/api/v1/medications/{medication}/steps"): [
        "dose",
        "unit",
        "times_per_day",
        "starts_on",
    ],
    ("post", "/api/v1/patients/{patient}/therapy-referrals"): [
        "discipline",
        "referred_on",
        "status",
        "discharged_on",
        "goals",
    ],
    ("post", "/api/v1/therapy-referrals/{referral}/sessions"): ["held_on", "attended", "notes"],
    ("post", "/api/v1/patients/{patient}/procedures"): [
        "kind",
        "name",
        "performed_on",
        "side",
        "nerves",
        "muscles",
    ],
    ("post", "/api/v1/patients/{patient}/dbs-systems"): [
        "target",
        "implanted_on",
        "generator",
        "generator_model",
        "rechargeable",
        "leads",
    ],
    ("put", "/api/v1/dbs-systems/{system}/leads/left"): ["model", "model_other", "contact_count"],
    ("post", "/api/v1/dbs-systems/{system}/battery-checks"): ["checked_on", "status", "percent"],
    ("post", "/api/v1/dbs-systems/{system}/programming"): [
        "programmed_at",
        "settings",
        "encounter_id",
    ],
}
SETTING = st.fixed_dictionaries(
    {},
    optional={
        "hemisphere": st.sampled_from(["left", "right", "both"]),
        "contacts": st.dictionaries(
            st.sampled_from(["0", "1", "3", "4", "case", "x"]), SCALARS, max_size=4
        ),
        "amplitude": SCALARS,
        "amplitude_unit": st.sampled_from(["V", "mA", "A"]),
        "pulse_width_us": SCALARS,
        "frequency_hz": SCALARS,
        "impedances": st.dictionaries(st.sampled_from(["0", "1", "case"]), SCALARS, max_size=3),
    },
)


def _bodies(fields: list[str]) -> st.SearchStrategy[bytes]:
    values = dict.fromkeys(fields, JSON_VALUES)
    if "settings" in fields:
        values["settings"] = st.lists(SETTING, max_size=3) | JSON_VALUES
    objects = st.fixed_dictionaries({}, optional=values)
    as_json = (objects | JSON_VALUES).map(lambda value: json.dumps(value).encode())
    return as_json | st.binary(max_size=120)


@FUZZ
@given(endpoint=st.sampled_from(sorted(API)), data=st.data())
def test_the_treatment_api_never_fails_with_a_500(client, ward, unit, endpoint, data):
    method, path = endpoint
    sign_in(client, unit["clinician"])
    body = data.draw(_bodies(API[endpoint]))
    before = _rows()

    ids = {k: v for k, v in ward.items() if k != "leads"}
    response = getattr(client, method)(path.format(**ids), body, content_type="application/json")

    assert response.status_code < 500, (path, body, response.content[:300])
    if response.status_code >= 400:
        assert _rows() == before
        assert response["Content-Type"].startswith("application/json")
