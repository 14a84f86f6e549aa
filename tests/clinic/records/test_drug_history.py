"""The drug history: medicines with their dates, dopamine-receptor blockers flagged (suggested
from the name, always the clinician's to set), stopping and removing; any clinician writes it,
nobody else reads it, every access audited, nothing written on a refusal."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils.html import escape

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import drug_history
from clinic.records.access import AccessRefused
from clinic.records.drug_history import DrugDetails
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.history import HistoryRefused
from clinic.records.models import DrugExposure
from clinic.records.selectors import PatientNotFound
from clinic.scheduling.availability import local_today
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

REFRESH = "clinic.records.classification.refresh_reviews_for_patient"

SCRIPT = "<script>alert(1)</script>"
BORN = date(1970, 1, 1)
HALOPERIDOL = DrugDetails(drug="Haloperidol 5 mg", started_on=date(2020, 3, 1))
LEVODOPA = DrugDetails(drug="Levodopa", started_on=date(2021, 5, 1), stopped_on=date(2021, 8, 1))


@pytest.fixture
def setting(db, staff):
    patient_user = factories.user(role=Role.PATIENT)
    return {
        "clinician": factories.user(role=Role.CLINICIAN),
        "colleague": factories.user(role=Role.CLINICIAN),
        "patient": factories.patient(user=patient_user, date_of_birth=BORN),
        "patient_user": patient_user,
        "staff": staff,
    }


def _add(setting, details=HALOPERIDOL, *, user=None):
    return drug_history.drug_add(
        context=context_of(user or setting["clinician"]),
        patient_id=setting["patient"].pk,
        details=details,
    )


def _with(details=HALOPERIDOL, **changes) -> DrugDetails:
    return DrugDetails(**{**details.__dict__, **changes})


def _refused(setting, details) -> HistoryRefused:
    with pytest.raises(HistoryRefused) as refused:
        _add(setting, details)
    return refused.value


def _last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# The flag


@pytest.mark.parametrize(
    ("name", "flag", "flagged"),
    [
        ("Haloperidol 5 mg", None, True),
        ("metoclopramide 10 mg tds", None, True),
        ("Lithium carbonate", None, False),
        ("Levodopa", None, False),
        ("Haloperidol 5 mg", False, False),  # the clinician unticks the suggestion
        ("A trial antiemetic", True, True),  # or ticks what the list does not know
    ],
)
def test_a_blocker_is_flagged_from_its_name_unless_the_clinician_says_otherwise(
    setting, name, flag, flagged
):
    drug = _add(setting, _with(drug=name, dopamine_receptor_blocker=flag))

    assert drug.dopamine_receptor_blocker is flagged
    assert DrugExposure.objects.get().dopamine_receptor_blocker is flagged


def test_blockers_come_first_and_the_read_is_audited_as_a_count(setting):
    _add(setting, LEVODOPA)
    _add(setting, HALOPERIDOL)
    before = _last_audit_pk()

    section = drug_history.drug_section(
        context=context_of(setting["clinician"]), patient=setting["patient"]
    )

    assert [d.drug for d in section.drugs] == ["Haloperidol 5 mg", "Levodopa"]
    assert section.blockers == 1
    entry = AuditEntry.objects.get(pk__gt=before)
    assert (entry.action, entry.detail) == ("read", "2 drugs")


def test_audit_entries_never_name_the_medicine(setting):
    drug = _add(setting)
    context = context_of(setting["clinician"])
    drug_history.drug_update(context=context, drug_id=drug.pk, details=_with(drug="Risperidone"))
    drug_history.drug_stop(context=context, drug_id=drug.pk, stopped_on=date(2022, 1, 1))
    drug_history.drug_remove(context=context, drug_id=drug.pk)

    details = list(AuditEntry.objects.order_by("pk").values_list("detail", flat=True))
    assert details == ["drug added", "drug changed: drug", "drug stopped", "drug removed"]
    assert not any("aloperidol" in d or "isperidone" in d or "blocker" in d for d in details)


# Dates


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"started_on": local_today() + timedelta(days=1)}, "started_on", None),
        ({"started_on": date(1969, 12, 31)}, "started_on", drug_history.STARTED_BEFORE_BIRTH),
        ({"stopped_on": local_today() + timedelta(days=1)}, "stopped_on", None),
        ({"stopped_on": date(2020, 2, 29)}, "stopped_on", drug_history.STOPPED_BEFORE_START),
        (
            {"started_on": None, "stopped_on": date(1969, 1, 1)},
            "stopped_on",
            drug_history.STOPPED_BEFORE_BIRTH,
        ),
        ({"started_on": "2020-01-01"}, "started_on", drug_history.BAD_DATE),
        ({"stopped_on": 20200101}, "stopped_on", drug_history.BAD_DATE),
    ],
)
def test_impossible_dates_are_refused_and_nothing_written(setting, changes, field, message):
    refused = _refused(setting, _with(**changes))

    assert refused.field == field
    if message:
        assert refused.message == message
    assert refused.status == 400
    assert not DrugExposure.objects.exists()


def test_dates_may_be_unknown_today_and_the_same_day(setting):
    today = local_today()

    unknown = _add(setting, _with(started_on=None))
    same_day = _add(setting, _with(started_on=today, stopped_on=today))

    assert (unknown.started_on, unknown.stopped_on) == (None, None)
    assert (same_day.started_on, same_day.stopped_on) == (today, today)


def test_a_medicine_is_stopped_once_not_before_it_started_nor_in_the_future(setting):
    drug = _add(setting)
    context = context_of(setting["colleague"])  # any clinician

    for day, message in [
        (date(2020, 2, 1), drug_history.STOPPED_BEFORE_START),
        (local_today() + timedelta(days=2), drug_history.STOPPED_IN_FUTURE),
        (None, drug_history.STOPPED_REQUIRED),
    ]:
        with pytest.raises(HistoryRefused) as refused:
            drug_history.drug_stop(context=context, drug_id=drug.pk, stopped_on=day)
        assert refused.value.message == message
    assert DrugExposure.objects.get().stopped_on is None

    stopped = drug_history.drug_stop(context=context, drug_id=drug.pk, stopped_on=date(2023, 1, 1))
    with pytest.raises(HistoryRefused) as twice:
        drug_history.drug_stop(context=context, drug_id=drug.pk, stopped_on=date(2023, 2, 1))

    assert stopped.stopped_on == date(2023, 1, 1)
    assert (twice.value.message, twice.value.status) == (drug_history.ALREADY_STOPPED, 409)
    assert DrugExposure.objects.get().stopped_on == date(2023, 1, 1)


# Other bad input


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"drug": ""}, "drug", drug_history.DRUG_REQUIRED),
        ({"drug": " \t "}, "drug", drug_history.DRUG_REQUIRED),
        ({"drug": "x" * 101}, "drug", "The name can be at most 100 characters."),
        ({"drug": "halo\x00peridol"}, "drug", NUL_CHARACTER),
        ({"drug": None}, "drug", "Enter text."),
        ({"dopamine_receptor_blocker": "yes"}, "dopamine_receptor_blocker", None),
        ({"notes": "x" * 301}, "notes", "Notes can be at most 300 characters."),
        ({"notes": "\x00"}, "notes", NUL_CHARACTER),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    setting, changes, field, message
):
    before = _last_audit_pk()

    refused = _refused(setting, _with(**changes))

    assert refused.field == field
    assert refused.message == (message or drug_history.BAD_FLAG)
    assert not DrugExposure.objects.exists()
    entry = AuditEntry.objects.get(pk__gt=before)
    assert (entry.outcome, entry.patient) == ("refused", setting["patient"])


# Who


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_other_staff_cannot_read_or_write_the_drug_history(setting, role):
    drug = _add(setting)
    user = setting["staff"][role]
    context = context_of(user)
    before = _last_audit_pk()

    with pytest.raises(AccessRefused) as add:
        _add(setting, LEVODOPA, user=user)
    with pytest.raises(AccessRefused) as stop:
        drug_history.drug_stop(context=context, drug_id=drug.pk, stopped_on=date(2023, 1, 1))
    with pytest.raises(AccessRefused) as remove:
        drug_history.drug_remove(context=context, drug_id=drug.pk)

    assert add.value.reveal
    assert not stop.value.reveal
    assert not remove.value.reveal
    assert drug_history.drug_section(context=context, patient=setting["patient"]) is None
    assert list(DrugExposure.objects.values_list("drug", "stopped_on")) == [
        ("Haloperidol 5 mg", None)
    ]
    refusals = AuditEntry.objects.filter(pk__gt=before)
    assert set(refusals.values_list("outcome", "actor", "patient")) == {
        ("refused", user.pk, setting["patient"].pk)
    }


def test_a_patient_cannot_write_their_own_drug_history(setting):
    with pytest.raises(AccessRefused) as refused:
        _add(setting, user=setting["patient_user"])

    assert not refused.value.reveal
    assert not DrugExposure.objects.exists()


def test_an_unknown_patient_or_medicine_is_not_found(setting):
    context = context_of(setting["clinician"])

    with pytest.raises(PatientNotFound):
        drug_history.drug_add(context=context, patient_id=999_999, details=HALOPERIDOL)
    with pytest.raises(drug_history.DrugNotFound):
        drug_history.drug_remove(context=context, drug_id=999_999)

    assert not DrugExposure.objects.exists()


def test_each_write_refreshes_the_classification(setting, monkeypatch):
    calls = []
    monkeypatch.setattr(
        REFRESH,
        lambda patient, **kwargs: calls.append(patient.pk),
    )
    context = context_of(setting["clinician"])

    drug = _add(setting)
    drug_history.drug_update(context=context, drug_id=drug.pk, details=LEVODOPA)
    DrugExposure.objects.filter(pk=drug.pk).update(stopped_on=None)
    drug_history.drug_stop(context=context, drug_id=drug.pk, stopped_on=date(2022, 1, 1))
    drug_history.drug_remove(context=context, drug_id=drug.pk)

    assert calls == [setting["patient"].pk] * 4


# Through the pages


def _post(client, url, details=HALOPERIDOL, flag="auto", **changes):
    data = {**details.__dict__, "dopamine_receptor_blocker": flag, **changes}
    return client.post(url, {k: "" if v is None else v for k, v in data.items()})


def test_a_clinician_keeps_the_drug_history_through_the_pages(client, setting):
    patient = setting["patient"]
    sign_in(client, setting["clinician"])
    page_url = f"/records/patients/{patient.pk}/"
    add_url = f"/records/patients/{patient.pk}/drugs/new/"

    assert "No medicines recorded." in client.get(page_url).content.decode()
    form = client.get(add_url).content.decode()
    assert 'value="auto"' in form
    assert _post(client, add_url).status_code == 302
    assert _post(client, add_url, LEVODOPA).status_code == 302

    page = client.get(page_url).content.decode()
    assert "Drug history" in page
    assert (
        'Haloperidol 5 mg</span> <span class="status status-new">Dopamine-receptor blocker' in page
    )
    assert "1 dopamine-receptor blocker in the drug history" in page
    assert page.index("Haloperidol 5 mg") < page.index("Levodopa")
    drug = DrugExposure.objects.get(drug="Haloperidol 5 mg")

    edit = client.get(f"/records/drugs/{drug.pk}/edit/").content.decode()
    assert re.search(r'value="yes"[^>]*checked', edit)
    unticked = _post(client, f"/records/drugs/{drug.pk}/edit/", flag="no")
    assert unticked.status_code == 302
    assert not DrugExposure.objects.get(pk=drug.pk).dopamine_receptor_blocker

    stop_url = f"/records/drugs/{drug.pk}/stop/"
    assert "Record as stopped" in client.get(stop_url).content.decode()
    assert client.post(stop_url, {"stopped_on": "2023-01-01"}).status_code == 302
    assert DrugExposure.objects.get(pk=drug.pk).stopped_on == date(2023, 1, 1)
    again = client.post(stop_url, {"stopped_on": "2023-02-01"})
    assert again.status_code == 409
    assert escape(drug_history.ALREADY_STOPPED) in again.content.decode()

    remove_url = f"/records/drugs/{drug.pk}/remove/"
    assert "Remove the medicine" in client.get(remove_url).content.decode()
    assert client.post(remove_url).status_code == 302
    assert list(DrugExposure.objects.values_list("drug", flat=True)) == ["Levodopa"]


def test_bad_input_on_the_page_is_shown_beside_its_field_and_nothing_is_written(client, setting):
    sign_in(client, setting["clinician"])
    url = f"/records/patients/{setting['patient'].pk}/drugs/new/"
    tomorrow = (local_today() + timedelta(days=1)).isoformat()

    cases = [
        ({"drug": ""}, drug_history.DRUG_REQUIRED),
        ({"drug": "x" * 101}, "at most 100 characters"),
        ({"drug": "a\x00b"}, NUL_CHARACTER),
        ({"dopamine_receptor_blocker": "maybe"}, drug_history.BAD_FLAG),
        ({"started_on": "2024-02-30"}, drug_history.BAD_DATE),
        ({"started_on": "yesterday"}, drug_history.BAD_DATE),
        ({"started_on": tomorrow}, drug_history.STARTED_IN_FUTURE),
        ({"started_on": "1960-01-01"}, drug_history.STARTED_BEFORE_BIRTH),
        ({"stopped_on": "2019-01-01"}, drug_history.STOPPED_BEFORE_START),
        ({"stopped_on": tomorrow}, drug_history.STOPPED_IN_FUTURE),
    ]
    for changes, message in cases:
        response = _post(client, url, **changes)
        assert response.status_code == 400, changes
        assert escape(message) in response.content.decode(), changes
    assert not DrugExposure.objects.exists()


def test_a_medicine_with_script_is_shown_as_text(client, setting):
    _add(setting, _with(drug=SCRIPT, notes=SCRIPT))
    sign_in(client, setting["clinician"])

    page = client.get(f"/records/patients/{setting['patient'].pk}/").content.decode()

    assert SCRIPT not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("role", "status"), [(Role.RECEPTION, 403), (Role.ADMIN, 403), (Role.PATIENT, 404)]
)
def test_the_drug_history_pages_refuse_everyone_but_clinicians(client, setting, role, status):
    drug = _add(setting)
    user = setting["patient_user"] if role == Role.PATIENT else setting["staff"][role]
    sign_in(client, user, second_factor=role != Role.PATIENT)
    patient = setting["patient"]
    before = _last_audit_pk()

    patient_pages = [
        client.get(f"/records/patients/{patient.pk}/drugs/new/"),
        _post(client, f"/records/patients/{patient.pk}/drugs/new/", LEVODOPA),
    ]
    drug_pages = [
        client.get(f"/records/drugs/{drug.pk}/edit/"),
        _post(client, f"/records/drugs/{drug.pk}/edit/", LEVODOPA),
        client.post(f"/records/drugs/{drug.pk}/stop/", {"stopped_on": "2023-01-01"}),
        client.post(f"/records/drugs/{drug.pk}/remove/"),
    ]

    assert [r.status_code for r in patient_pages] == [status] * 2
    assert [r.status_code for r in drug_pages] == [404] * 4
    assert "Haloperidol" not in "".join(r.content.decode() for r in patient_pages + drug_pages)
    assert list(DrugExposure.objects.values_list("drug", "stopped_on")) == [
        ("Haloperidol 5 mg", None)
    ]
    entries = AuditEntry.objects.filter(pk__gt=before)
    assert set(entries.values_list("outcome", flat=True)) == {"refused"}


def test_reception_do_not_see_the_drug_history_on_the_patient_page(client, setting):
    _add(setting)
    sign_in(client, setting["staff"][Role.RECEPTION])

    page = client.get(f"/records/patients/{setting['patient'].pk}/").content.decode()

    assert "Drug history" not in page
    assert "Haloperidol" not in page
