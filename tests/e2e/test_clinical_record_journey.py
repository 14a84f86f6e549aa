"""The clinical record in a real browser (issue 8's journey): the demo clinician opens today's
clinic, takes a new patient's history with a family history, marks the neck and the right
upper limb on the body diagram, sees "segmental" with its reason and the codes, confirms it,
signs the encounter, produces the GP letter as a PDF and sends it; the timeline shows it all
in order, and the patient reads the letter in the portal. Everything here is made up."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import pypdf
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.accounts.models import User
from clinic.demo import data
from clinic.directory.models import Practitioner, Service, Site
from clinic.records.models import Encounter, Letter, Patient
from clinic.scheduling.availability import clinic_tz, local_today
from clinic.scheduling.models import Appointment
from tests.e2e.journeys import sign_in, sign_in_staff, sign_out

COMPLAINT = "Neck pulls to the left for two years; now the right hand cramps when writing."
PLAN = "Botulinum toxin to the neck muscles; review in three months (made-up example)."


def _new_patient_today() -> Appointment:
    """Patricia Demo (a made-up patient with a portal account and no clinical record yet),
    booked with Dr Amara Okafor this morning or up to half an hour ago."""
    midnight = datetime.combine(local_today(), time(0), tzinfo=clinic_tz())
    now = timezone.now().replace(second=0, microsecond=0)
    start = max(midnight, now - timedelta(minutes=30))
    return Appointment.objects.create(
        patient=Patient.objects.get(hospital_number=data.DEMO_PATIENTS[0][4]),
        practitioner=Practitioner.objects.get(slug=data.DEMO_STAFF[1][4]),
        site=Site.objects.get(slug="london-neurosurgery-partnership"),
        service=Service.objects.get(slug="new-consultation"),
        start=start,
        end=start + timedelta(minutes=45),
        blocked_until=start + timedelta(minutes=45),
        booked_by=User.objects.get(email=data.DEMO_STAFF[0][0]),
    )


def test_a_new_patient_is_assessed_classified_signed_and_written_to(
    page: Page, demo_site, screenshot_dir
):
    appointment = _new_patient_today()
    sign_in_staff(page, demo_site, data.DEMO_STAFF[1][0], data.DEMO_STAFF[1][1])
    encounter_url = _start_from_todays_clinic(page)

    _take_the_history(page)
    _add_a_mother_with_dystonia(page, screenshot_dir)
    page.goto(encounter_url)
    _examine_and_confirm_segmental(page, screenshot_dir)
    _add_to_the_problem_list(page)
    page.goto(encounter_url)
    _sign(page)
    _write_and_send_the_gp_letter(page, screenshot_dir)
    _check_the_timeline(page, screenshot_dir)
    sign_out(page)
    _patient_reads_the_letter(page, demo_site, screenshot_dir)

    encounter = Encounter.objects.get(appointment=appointment)
    assert encounter.is_signed
    assert Letter.objects.get(encounter=encounter).is_sent


def _start_from_todays_clinic(page: Page) -> str:
    """Start the consultation from the appointment; the encounter page's address."""
    page.get_by_role("link", name="Today's clinic").click()
    page.locator("tbody tr", has_text="Patricia Demo").get_by_role("link", name="Start").click()
    page.get_by_label("Consultation", exact=True).check()
    page.get_by_role("button", name="Start encounter").click()
    expect(page.get_by_role("status")).to_contain_text("Encounter started")
    return page.url


def _take_the_history(page: Page) -> None:
    """History: the complaint, onset at 49, first in the neck."""
    page.get_by_role("link", name="Take the history").click()
    page.get_by_label("Presenting complaint").fill(COMPLAINT)
    page.get_by_label("Age at onset (years)").fill("49")
    page.get_by_label("Body region where it began").select_option(label="Neck")
    page.get_by_role("button", name="Save history").click()
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text(COMPLAINT)
    expect(history).to_contain_text("49 years")


def _add_a_mother_with_dystonia(page: Page, screenshot_dir) -> None:
    """Family history, on the patient's page: a mother with cervical dystonia."""
    page.get_by_role("link", name="Patricia Demo").first.click()
    expect(page.get_by_role("region", name="Family history")).to_contain_text(
        "Family history of dystonia: no"
    )
    page.get_by_role("link", name="Add a relative").click()
    page.get_by_label("Relationship to the patient").select_option(label="Mother")
    page.get_by_label("Condition", exact=True).fill("Cervical dystonia")
    page.get_by_label("This condition is a dystonia").check()
    page.get_by_label("Age at onset (years)").fill("55")
    page.get_by_role("button", name="Add the relative").click()
    family = page.get_by_role("region", name="Family history")
    expect(family).to_contain_text("Family history of dystonia: yes")
    pedigree = family.get_by_role("table")
    expect(pedigree).to_contain_text("Mother: Cervical dystonia, onset at 55")
    page.screenshot(path=screenshot_dir / "record-family-history.png", full_page=True)


def _examine_and_confirm_segmental(page: Page, screenshot_dir) -> None:
    """The neck and right upper limb on the diagram; the core says segmental; confirmed."""
    page.get_by_role("link", name="Record the examination").click()
    neck = page.get_by_role("checkbox", name="Neck", exact=True)
    right_arm = page.get_by_role("checkbox", name="Right upper limb", exact=True)
    neck.click()
    right_arm.focus()
    page.keyboard.press("Space")  # the diagram works from the keyboard too
    expect(neck).to_have_attribute("aria-checked", "true")
    expect(right_arm).to_have_attribute("aria-checked", "true")
    # The equivalent form follows the diagram.
    expect(page.get_by_label("Right upper limb: involved")).to_be_checked()
    page.screenshot(path=screenshot_dir / "record-body-diagram.png", full_page=True)
    page.get_by_role("button", name="Save the examination").click()

    # The core's classification beside the findings: segmental, its reason, the codes.
    panel = page.get_by_role("region", name="Examination and classification")
    expect(panel).to_contain_text("Segmental")
    expect(panel).to_contain_text("neck and right upper limb are contiguous")
    expect(panel).to_contain_text("G24.1")  # familial, from the mother's dystonia
    expect(panel).to_contain_text("15802004")
    page.screenshot(path=screenshot_dir / "record-classification.png", full_page=True)
    page.get_by_role("button", name="Confirm the classification").click()
    expect(page.get_by_role("region", name="Examination and classification")).to_contain_text(
        "Confirmed"
    )


def _add_to_the_problem_list(page: Page) -> None:
    """The confirmed classification goes on the problem list, with its codes."""
    page.get_by_role("link", name="Patricia Demo").first.click()
    problems = page.get_by_role("region", name="Problem list")
    problems.get_by_role("link", name="Add to the problem list").first.click()
    page.get_by_role("button", name="Add to the problem list").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Segmental dystonia")
    expect(page.locator("main")).to_contain_text("G24.1")


def _sign(page: Page) -> None:
    """Notes, then sign."""
    page.get_by_role("textbox", name="Notes").fill("Segmental dystonia, familial. " + PLAN)
    page.get_by_role("button", name="Save and sign").click()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_role("status")).to_contain_text("Encounter signed and locked")


def _write_and_send_the_gp_letter(page: Page, screenshot_dir) -> None:
    """The GP letter: preview, the draft PDF, send, the sent PDF."""
    page.get_by_role("link", name="Write a letter").click()
    page.get_by_role("button", name="Start the letter").click()
    page.get_by_label("Plan").fill(PLAN)
    page.get_by_role("button", name="Save and preview").click()
    preview = page.locator(".letter-preview")
    expect(preview).to_contain_text("Dr Gita Madeup")
    expect(preview).to_contain_text("Segmental dystonia")
    expect(preview).to_contain_text(PLAN)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF (draft)").first.click()
    draft_pdf = download_info.value.path().read_bytes()
    draft_text = _pdf_text(draft_pdf)
    assert "Patricia Demo" in draft_text
    assert "DRAFT" in draft_text
    page.screenshot(path=screenshot_dir / "record-letter-preview.png", full_page=True)
    page.get_by_role("button", name="Save and send").click()
    page.get_by_role("button", name="Send the letter").click()
    expect(page.locator("main")).to_contain_text("Sent")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").first.click()
    sent_text = _pdf_text(download_info.value.path().read_bytes())
    assert "Dr Gita Madeup" in sent_text
    assert "Segmental dystonia" in sent_text
    assert "DRAFT" not in sent_text


def _check_the_timeline(page: Page, screenshot_dir) -> None:
    """The timeline: every event of the visit, newest first."""
    page.get_by_role("link", name="Patricia Demo").first.click()
    page.get_by_role("link", name="Timeline").click()
    events = page.locator("li.timeline-event")
    expect(events.first).to_contain_text("Letter")
    texts = events.all_inner_texts()
    kinds = [
        next(k for k in ("Letter", "Diagnosis", "Classification", "Encounter") if k in t)
        for t in texts
    ]
    # Newest first: the letter, the signature's diagnosis and decision, then the visit itself.
    assert kinds[0] == "Letter", texts
    assert kinds[-1] == "Encounter", texts
    assert {"Diagnosis", "Classification"} <= set(kinds), texts
    page.screenshot(path=screenshot_dir / "record-timeline.png", full_page=True)


def _patient_reads_the_letter(page: Page, demo_site, screenshot_dir) -> None:
    """The patient reads the letter in the portal."""
    sign_in(page, demo_site, data.DEMO_PATIENT_EMAIL, data.DEMO_PATIENT_PASSWORD)
    page.goto(f"{demo_site}/my/")
    letters = page.get_by_role("region", name="Your letters")
    letters.get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text(PLAN)
    expect(page.locator("main")).to_contain_text("Segmental dystonia")
    page.screenshot(path=screenshot_dir / "record-portal-letter.png", full_page=True)


def _pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
