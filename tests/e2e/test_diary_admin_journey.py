"""Setting up the diary in a real browser: an administrator records a practitioner's leave
in the admin, and the slot search stops offering that practitioner on those days."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from clinic.demo import data
from clinic.directory.models import Practitioner, Service
from clinic.scheduling import availability
from tests.e2e.journeys import sign_in_staff


def _slots_with(practitioner: Practitioner, day) -> list:
    query = availability.SlotQuery(
        service=Service.objects.get(slug="botulinum-toxin-clinic"),
        date_from=day,
        date_to=day,
        practitioner=practitioner,
    )
    return availability.slots_search(query)


def test_an_administrator_records_leave_and_its_slots_go(page: Page, demo_site):
    okafor = Practitioner.objects.get(slug="amara-okafor")
    monday = availability.local_today() + timedelta(days=7)
    monday += timedelta(days=(0 - monday.weekday()) % 7)  # she works Mondays (made up)
    assert _slots_with(okafor, monday)

    sign_in_staff(page, demo_site, data.DEMO_ADMIN_EMAIL, data.DEMO_ADMIN_PASSWORD)
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Leave").click()
    page.get_by_role("link", name="Add leave").click()
    page.get_by_label("Practitioner").select_option(label=str(okafor))
    page.get_by_label("Start date").fill(monday.isoformat())
    page.get_by_label("End date").fill(monday.isoformat())
    page.get_by_label("Reason").fill("Conference (made up)")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert _slots_with(okafor, monday) == []
