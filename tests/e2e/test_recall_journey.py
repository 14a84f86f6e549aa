"""Recalls in a real browser: reception works the recall list, records a telephone attempt,
books the recalled patient with the practitioner the recall names, and the recall closes."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from clinic.accounts.models import User
from clinic.demo import data
from clinic.directory.models import Practitioner, Service, Site
from clinic.records.models import Patient
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import Appointment, Recall, RecallStatus
from tests.e2e.journeys import sign_in_staff


def test_reception_works_the_recall_list_and_books_a_recalled_patient(
    page: Page, demo_site, screenshot_dir
):
    patient = Patient.objects.get(hospital_number=data.DEMO_PATIENTS[0][4])
    recall = Recall.objects.create(
        patient=patient,
        service=Service.objects.get(slug="botulinum-toxin-clinic"),
        due_by=local_today() - timedelta(days=2),
        site=Site.objects.get(slug="london-neurosurgery-partnership"),
        practitioner=Practitioner.objects.get(slug="amara-okafor"),
        reason="Re-injection 12 weeks after the last toxin session",
        created_by=User.objects.get(email=data.DEMO_STAFF[1][0]),
    )
    sign_in_staff(page, demo_site, data.DEMO_STAFF[0][0], data.DEMO_STAFF[0][1])

    page.get_by_role("link", name="Recalls").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recalls")
    row = page.locator("tbody tr", has_text="Patricia Demo")
    expect(row).to_contain_text("DC0000001")
    expect(row).to_contain_text("Botulinum toxin clinic")
    expect(row).to_contain_text("Overdue")
    expect(row).to_contain_text("Dr Amara Okafor")
    expect(row).to_contain_text("None yet")
    page.screenshot(path=screenshot_dir / "recall-list.png", full_page=True)

    row.get_by_role("link", name="Record contact").click()
    page.get_by_label("Telephone").check()
    page.get_by_label("Outcome").select_option(label="Left a message")
    page.get_by_label("Note").fill("Asked her to call back to book")
    page.get_by_role("button", name="Record contact").click()
    expect(page.get_by_role("status")).to_contain_text("Contact attempt recorded")
    attempts = page.locator("section", has=page.get_by_role("heading", name="Contact attempts"))
    expect(attempts).to_contain_text("Telephone, Left a message: Asked her to call back to book")

    page.get_by_role("link", name="Back to the recall list").click()
    row = page.locator("tbody tr", has_text="Patricia Demo")
    expect(row).to_contain_text("1 attempt")
    expect(row).to_contain_text("Telephone, Left a message")
    row.get_by_role("link", name="Book").click()

    expect(page.get_by_role("heading", name="First available time")).to_be_visible()
    expect(page.get_by_label("Patient hospital number")).to_have_value("DC0000001")
    expect(page.locator("#id_practitioner option:checked")).to_have_text("Dr Amara Okafor")
    first_time = page.locator(".slot-list a").first
    expect(first_time).to_contain_text("Dr Amara Okafor")
    first_time.click()
    expect(page.locator("main")).to_contain_text("Patricia Demo (DC0000001)")
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked")

    page.get_by_role("link", name="Recalls").click()
    expect(page.locator("main")).not_to_contain_text("Patricia Demo")
    expect(page.locator("tbody tr", has_text="Oliver Example")).to_contain_text("Overdue")
    page.get_by_label("Status").select_option(label="Booked")
    page.get_by_role("button", name="Show").click()
    row = page.locator("tbody tr", has_text="Patricia Demo")
    expect(row).to_contain_text("Booked")
    page.screenshot(path=screenshot_dir / "recall-booked.png", full_page=True)

    recall.refresh_from_db()
    assert recall.status == RecallStatus.BOOKED
    assert recall.appointment == Appointment.objects.get(patient=patient)
