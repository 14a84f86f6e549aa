"""The patient record in a real browser: reception register someone who looks like a demo
patient, are warned, confirm it is a different person and add a next of kin; a clinician
records a penicillin allergy and sees it in the Alerts banner on the patient page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from clinic.demo import data
from clinic.records.models import NextOfKin, Patient, PatientAlert
from tests.e2e.journeys import sign_in_staff, sign_out


def _register_a_look_alike_of_oliver(page: Page, screenshot_dir) -> Patient:
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Register a patient").click()
    # The same name and date of birth as the demo patient Oliver Example (DC0000002).
    page.get_by_label("Given name").fill("Oliver")
    page.get_by_label("Family name").fill("Example")
    page.get_by_label("Date of birth").fill("03/11/1988")
    page.get_by_label("Phone").fill("020 7946 0777")
    page.get_by_role("textbox", name="Referred by").fill("Dr Made-up Referrer")
    page.get_by_role("button", name="Save").click()

    warning = page.get_by_role("region", name="These patients look alike. Create anyway?")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Example, Oliver")
    expect(warning).to_contain_text("03/11/1988")
    expect(warning).to_contain_text("DC0000002")
    page.screenshot(path=screenshot_dir / "patient-look-alike.png", full_page=True)
    assert Patient.objects.filter(given_name="Oliver", family_name="Example").count() == 1
    page.get_by_label("None of these is the same person").check()
    page.get_by_role("button", name="Register a new patient").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Oliver Example")
    expect(page.locator("main")).to_contain_text("Dr Made-up Referrer")
    new = Patient.objects.exclude(hospital_number="DC0000002").get(
        given_name="Oliver", family_name="Example"
    )
    expect(page.locator("main")).to_contain_text(new.hospital_number)
    alerts = page.get_by_role("region", name="Alerts", exact=True)
    expect(alerts).to_contain_text("No known allergies recorded")
    return new


def _add_a_next_of_kin(page: Page, new: Patient) -> None:
    page.get_by_role("link", name="Add next of kin").click()
    page.get_by_label("Full name").fill("Sam Example")
    page.get_by_label("Relationship to the patient").fill("Sister")
    page.get_by_label("Telephone").fill("020 7946 0888")
    page.get_by_label("Contact in an emergency").check()
    page.get_by_role("button", name="Add next of kin").click()

    expect(page.get_by_role("status")).to_contain_text("Next of kin added")
    next_of_kin = page.get_by_role("region", name="Next of kin", exact=True)
    expect(next_of_kin).to_contain_text("Sam Example")
    expect(next_of_kin).to_contain_text("Sister")
    expect(next_of_kin).to_contain_text("Emergency contact")
    assert NextOfKin.objects.get(patient=new).is_emergency_contact


def test_a_look_alike_is_confirmed_given_a_next_of_kin_and_an_allergy(
    page: Page, demo_site, screenshot_dir
):
    reception_email, reception_password = data.DEMO_STAFF[0][0], data.DEMO_STAFF[0][1]
    sign_in_staff(page, demo_site, reception_email, reception_password)
    new = _register_a_look_alike_of_oliver(page, screenshot_dir)
    _add_a_next_of_kin(page, new)
    sign_out(page)

    clinician_email, clinician_password = data.DEMO_STAFF[1][0], data.DEMO_STAFF[1][1]
    sign_in_staff(page, demo_site, clinician_email, clinician_password)
    page.goto(f"{demo_site}/records/patients/{new.pk}/")
    page.get_by_role("link", name="Record an allergy or alert").click()
    page.get_by_label("Kind of alert").select_option(label="Allergy")
    page.get_by_label("Detail").fill("Penicillin: rash")
    page.get_by_role("button", name="Record alert").click()

    expect(page.get_by_role("status")).to_contain_text("Alert recorded")
    banner = page.get_by_role("region", name="Alerts", exact=True)
    expect(banner.get_by_role("heading", name="Alerts")).to_be_visible()
    expect(banner).to_contain_text("Allergy: Penicillin: rash")
    expect(banner).not_to_contain_text("No known allergies recorded")
    expect(page.get_by_role("region", name="Allergies and alerts")).to_contain_text(
        "Recorded by Amara Okafor"
    )
    page.screenshot(path=screenshot_dir / "patient-alert-banner.png", full_page=True)
    assert PatientAlert.objects.get(patient=new).detail == "Penicillin: rash"
