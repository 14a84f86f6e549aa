"""Deep brain stimulation through the pages: a clinician records a system, a battery check
(the alert shows on the patient's treatment pages when low) and a programming session (its
page shows the charge-density warning for an excessive setting, and none otherwise); bad input
is shown beside its field with nothing written; everyone but clinicians is refused (403 on a
patient's pages for other staff, 404 by id and for patients), audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from clinic.audit.models import AuditEntry
from clinic.scheduling.availability import local_today
from clinic.treatment.models import BatteryCheck, DbsProgramming, DbsSetting, DbsSystem
from tests import factories
from tests.clinic.treatment.conftest import last_audit_pk, new_entries
from tests.clinic.treatment.helpers import SYSTEM, add_system, record_programming, with_
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
SYSTEM_FORM = {
    "target": "gpi",
    "target_other": "",
    "implanted_on": "2020-06-01",
    "generator": "other",
    "generator_model": "Activa PC",
    "rechargeable": "no",
    "mri_status": "mr_conditional",
    "notes": "",
    "left_model": "3389",
    "left_model_other": "",
    "left_contact_count": "4",
    "right_model": "3389",
    "right_model_other": "",
    "right_contact_count": "4",
}


def programming_form(**left) -> dict[str, str]:
    """3 V, 90 µs, 130 Hz on left contact 1 at 500 ohms; no setting on the right."""
    data = {
        "programmed_on": (local_today() - timedelta(days=1)).isoformat(),
        "programmed_time": "10:00",
        "encounter": "",
        "side_effects": "",
        "notes": "",
        "right_amplitude": "",
        "right_amplitude_unit": "V",
        "right_pulse_width_us": "",
        "right_frequency_hz": "",
        "right_case": "+",
        "left_amplitude": "3",
        "left_amplitude_unit": "V",
        "left_pulse_width_us": "90",
        "left_frequency_hz": "130",
        "left_case": "+",
    }
    for n in range(4):
        data |= {f"left_contact_{n}": "off", f"left_impedance_{n}": ""}
        data |= {f"right_contact_{n}": "off", f"right_impedance_{n}": ""}
    data |= {"left_contact_1": "-", "left_impedance_1": "500"}
    return data | left


def test_a_clinician_records_dbs_and_sees_the_charge_density_warning_after_save(client, unit):
    patient = unit["patient"]
    sign_in(client, unit["clinician"])
    page_url = f"/records/patients/{patient.pk}/treatment/"

    assert "No DBS system recorded." in client.get(page_url).content.decode()
    assert client.get(f"{page_url}dbs/new/").status_code == 200
    assert client.post(f"{page_url}dbs/new/", SYSTEM_FORM).status_code == 302
    system = DbsSystem.objects.get()
    page = client.get(page_url).content.decode()
    assert "Activa PC" in page
    assert 'Left: <span class="user-text">Medtronic 3389</span>, 4 contacts' in page

    add_url = f"/records/dbs-systems/{system.pk}/programming/new/"
    form = client.get(add_url).content.decode()
    assert 'name="left_contact_3"' in form
    assert 'name="right_impedance_0"' in form

    excessive = client.post(
        add_url, programming_form(left_amplitude="6.1", left_pulse_width_us="210")
    )
    assert excessive.status_code == 302
    session = DbsProgramming.objects.get()
    assert excessive["Location"] == f"/records/dbs-programming/{session.pk}/"
    shown = client.get(excessive["Location"]).content.decode()
    assert 'role="alert"' in shown
    assert "Charge density warning: left hemisphere" in shown
    assert "Charge density 42.7 µC/cm²/phase exceeds the 30 µC/cm²/phase limit" in shown

    safe = client.post(add_url, programming_form())
    shown = client.get(safe["Location"]).content.decode()
    assert "Charge density warning" not in shown
    assert "Charge density within the limit the lead's manufacturer publishes." in shown
    assert DbsSetting.objects.count() == 2
    assert "Charge density warning" in client.get(page_url).content.decode()  # the list tags it


def test_a_low_battery_raises_the_alert_on_the_patients_treatment_pages(client, unit):
    system = add_system(unit)
    sign_in(client, unit["clinician"])
    url = f"/records/dbs-systems/{system.pk}/battery/new/"

    response = client.post(url, {"checked_on": "2024-01-10", "status": "low", "percent": "9"})

    assert response.status_code == 302
    for page_url in (
        f"/records/patients/{unit['patient'].pk}/treatment/",
        f"/records/dbs-systems/{system.pk}/programming/new/",
        url,
    ):
        page = client.get(page_url).content.decode()
        assert 'id="dbs-battery-alert"' in page, page_url
        assert "abrupt loss of stimulation can precipitate a dystonic crisis" in page


def test_bad_input_on_the_pages_is_shown_beside_its_field_and_nothing_written(client, unit):
    vercise = add_system(unit, with_(SYSTEM, generator="vercise", generator_model=""))
    DbsProgramming.objects.all().delete()
    sign_in(client, unit["clinician"])
    add_url = f"/records/patients/{unit['patient'].pk}/treatment/dbs/new/"
    tomorrow = date.fromordinal(local_today().toordinal() + 1).isoformat()

    for changes, message in [
        ({"implanted_on": tomorrow}, "The implant date cannot be in the future."),
        ({"implanted_on": "2020-02-30"}, "Enter a real date"),
        ({"target": "other"}, "Name the target."),
        ({"rechargeable": "maybe"}, "Rechargeable: answer yes or no."),
        ({"left_contact_count": "many"}, "Enter a whole number."),
        ({"left_contact_count": "40"}, "Enter the number of contacts on the lead"),
    ]:
        response = client.post(add_url, SYSTEM_FORM | changes)
        assert response.status_code == 400, changes
        assert escape(message) in response.content.decode(), changes
    assert DbsSystem.objects.count() == 1

    programming_url = f"/records/dbs-systems/{vercise.pk}/programming/new/"
    for changes, message in [
        (
            {"left_amplitude": "25", "left_amplitude_unit": "mA", "left_impedance_1": ""},
            "expected 0.1 to 20 mA",
        ),
        ({"left_amplitude": "3"}, "A unit of V is not allowed: expected mA"),
        ({"left_amplitude": "abc"}, "Enter a number."),
        ({"left_contact_1": "off"}, "Choose at least one negative (cathode)"),
        ({"programmed_on": tomorrow}, "The session cannot be in the future."),
        ({"programmed_on": "2020-05-31"}, "The session cannot be before the system was implanted."),
    ]:
        response = client.post(programming_url, programming_form(**changes))
        assert response.status_code == 400, changes
        assert escape(message) in response.content.decode(), changes
    assert not DbsProgramming.objects.exists()


def test_text_is_shown_as_text(client, unit):
    system = add_system(unit, with_(SYSTEM, generator_model=SCRIPT, notes=SCRIPT))
    session = record_programming(unit, system)
    DbsProgramming.objects.filter(pk=session.pk).update(notes=SCRIPT)
    sign_in(client, unit["clinician"])

    pages = [
        client.get(f"/records/patients/{unit['patient'].pk}/treatment/"),
        client.get(f"/records/dbs-programming/{session.pk}/"),
    ]

    for response in pages:
        assert SCRIPT not in response.content.decode()
    assert "&lt;script&gt;" in pages[0].content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("reception", 403), ("admin", 403), ("patient_user", 404)]
)
def test_the_pages_refuse_everyone_but_clinicians(client, unit, who, status):
    system = add_system(unit)
    session = record_programming(unit, system)
    user = unit[who]
    sign_in(client, user, second_factor=who != "patient_user")
    patient = unit["patient"]
    before = last_audit_pk()

    patient_pages = [
        client.get(f"/records/patients/{patient.pk}/treatment/"),
        client.get(f"/records/patients/{patient.pk}/treatment/dbs/new/"),
        client.post(f"/records/patients/{patient.pk}/treatment/dbs/new/", SYSTEM_FORM),
    ]
    by_id = [
        client.get(f"/records/dbs-systems/{system.pk}/edit/"),
        client.post(f"/records/dbs-systems/{system.pk}/edit/", SYSTEM_FORM),
        client.post(
            f"/records/dbs-systems/{system.pk}/leads/left/", {"model": "3387", "contact_count": "4"}
        ),
        client.post(
            f"/records/dbs-systems/{system.pk}/battery/new/",
            {"checked_on": "2024-01-10", "status": "low"},
        ),
        client.post(f"/records/dbs-systems/{system.pk}/programming/new/", programming_form()),
        client.get(f"/records/dbs-programming/{session.pk}/"),
    ]

    assert [r.status_code for r in patient_pages] == [status] * 3
    assert [r.status_code for r in by_id] == [404] * 6
    assert "Activa" not in "".join(r.content.decode() for r in patient_pages + by_id)
    assert DbsSystem.objects.count() == 1
    assert DbsProgramming.objects.count() == 1
    assert not BatteryCheck.objects.exists()
    assert set(new_entries(before).values_list("outcome", flat=True)) == {"refused"}


def test_another_patients_system_is_not_reached_through_this_patients_pages(client, unit):
    theirs = add_system(unit, patient=unit["other_patient"])
    sign_in(client, unit["clinician"])

    page = client.get(f"/records/patients/{unit['patient'].pk}/treatment/").content.decode()

    assert f"/records/dbs-systems/{theirs.pk}/" not in page
    assert "No DBS system recorded." in page


def test_unknown_ids_are_404(client, unit):
    sign_in(client, unit["clinician"])

    assert client.get("/records/patients/999999/treatment/").status_code == 404
    assert client.get("/records/dbs-systems/999999/edit/").status_code == 404
    assert client.get("/records/dbs-programming/999999/").status_code == 404
    assert (
        client.get(f"/records/dbs-systems/{add_system(unit).pk}/leads/middle/").status_code == 404
    )


def test_the_page_reads_are_audited(client, unit):
    system = add_system(unit)
    session = record_programming(unit, system)
    sign_in(client, unit["clinician"])
    before = last_audit_pk()

    client.get(f"/records/patients/{unit['patient'].pk}/treatment/")
    client.get(f"/records/dbs-programming/{session.pk}/")

    details = list(new_entries(before).values_list("detail", flat=True))
    assert (
        "treatment page read: 0 medications, 0 therapy referrals, 1 DBS systems, 0 procedures"
        in details
    )
    assert "dbs programming read" in details
    assert all(e.outcome == "allowed" for e in AuditEntry.objects.filter(pk__gt=before))


def test_the_treatment_page_takes_the_same_queries_for_one_or_three_systems(client, unit):
    sign_in(client, unit["clinician"])
    client.get(f"/records/patients/{unit['patient'].pk}/treatment/")  # the session warmed
    counts = []
    for n in (1, 3):
        patient = factories.patient()
        for _ in range(n):
            system = add_system(unit, patient=patient)
            record_programming(unit, system)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/records/patients/{patient.pk}/treatment/")
        assert response.status_code == 200
        assert response.content.decode().count("Record a programming session") == n
        counts.append(len(queries))

    assert counts[0] == counts[1]
