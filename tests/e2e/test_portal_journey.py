"""The patient portal in a real browser: the self-check leads to a query that reception
answers; a second opinion with a PDF is answered by a clinician and read by the patient; a
patient editing the URL to another patient's document is refused."""

from __future__ import annotations

import time

from django.core import mail
from playwright.sync_api import Page, expect

from clinic.accounts.models import Role
from clinic.demo import data
from clinic.enquiries.models import Enquiry
from dystonia.selfcheck import QUESTIONS
from tests import factories
from tests.e2e.journeys import sign_in, sign_in_staff, sign_out

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_visitor_self_checks_sends_a_query_and_reception_replies(
    page: Page, demo_site, screenshot_dir, settings
):
    settings.QUERY_MIN_SECONDS = 1
    page.goto(demo_site + "/")
    page.get_by_role("link", name="Check your symptoms").click()
    expect(
        page.get_by_role("heading", name="Get help now if you have any of these")
    ).to_be_visible()
    for question in QUESTIONS:
        answer = "Yes" if question.id == "neck_turning" else "No"
        page.get_by_role("group", name=question.text).get_by_label(answer, exact=True).check()
    page.screenshot(path=screenshot_dir / "self-check.png", full_page=True)
    page.get_by_role("button", name="See my advice").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("See a dystonia specialist")
    expect(page.locator("main")).to_contain_text("This is not a diagnosis")
    # The answers travel in a POST, never in the URL.
    page.get_by_role("button", name="Send us a query with these answers").click()
    assert "selfcheck" not in page.url

    expect(
        page.get_by_role("heading", name="Your self-check answers will be sent with this query")
    ).to_be_visible()
    page.get_by_label("Your name").fill("Sam Madeup")
    page.get_by_label("Email address").fill("sam@example.org")
    page.get_by_label("Your message").fill("My neck turns to the left. Who should I see?")
    time.sleep(1.1)
    page.get_by_role("button", name="Send query").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("we have your query")
    reference = Enquiry.objects.get(sender_email="sam@example.org").reference
    expect(page.locator("main")).to_contain_text(reference)

    sign_in_staff(page, demo_site, data.DEMO_STAFF[0][0], data.DEMO_STAFF[0][1])
    page.get_by_role("link", name="Enquiries").click()
    page.get_by_role("link", name=reference).click()
    expect(page.locator("main")).to_contain_text("Self-check advice: See a dystonia specialist")
    page.get_by_role("textbox", name="Message").fill(
        "Please book a new consultation; we will call you."
    )
    page.get_by_role("button", name="Send reply").click()

    expect(page.get_by_role("status")).to_contain_text("Your message has been sent")
    expect(page.locator("main")).to_contain_text("Please book a new consultation")
    expect(page.locator("main")).to_contain_text("Answered")
    assert "Please book a new consultation" in mail.outbox[-1].body


def test_a_second_opinion_with_a_pdf_is_answered_and_read(
    page: Page, demo_site, tmp_path, screenshot_dir
):
    letter = tmp_path / "clinic-letter.pdf"
    letter.write_bytes(PDF)
    sign_in(page, demo_site, data.DEMO_PATIENT_EMAIL, data.DEMO_PATIENT_PASSWORD)
    page.get_by_role("link", name="Ask for a second opinion").click()
    page.get_by_label("What would you like a second opinion on?").fill(
        "Is toxin still right for me?"
    )
    page.get_by_label("Your current diagnosis, as you were told it").fill("Cervical dystonia")
    page.get_by_label("Your current treatment (medicines, injections, therapy, surgery)").fill(
        "Toxin every 12 weeks"
    )
    page.get_by_label("Letters and reports").set_input_files(str(letter))
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("we have your request")
    enquiry = Enquiry.objects.get(kind="second_opinion")
    sign_out(page)

    sign_in_staff(page, demo_site, data.DEMO_STAFF[0][0], data.DEMO_STAFF[0][1])
    page.goto(f"{demo_site}/enquiries/{enquiry.pk}/")
    page.get_by_label("Assign to a clinician").select_option(label="Amara Okafor (Clinician)")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("main")).to_contain_text("Assigned to")
    sign_out(page)

    sign_in_staff(page, demo_site, data.DEMO_STAFF[1][0], data.DEMO_STAFF[1][1])
    page.goto(f"{demo_site}/enquiries/{enquiry.pk}/")
    expect(page.get_by_role("link", name="clinic-letter.pdf")).to_be_visible()
    page.get_by_label("Your opinion").fill(
        "Continue toxin; consider EMG guidance for the deep muscles."
    )
    page.get_by_role("button", name="Save opinion and tell the patient").click()
    expect(page.get_by_role("status")).to_contain_text("The opinion has been saved")
    sign_out(page)

    sign_in(page, demo_site, data.DEMO_PATIENT_EMAIL, data.DEMO_PATIENT_PASSWORD)
    expect(page.locator("main")).to_contain_text("the opinion is ready")
    page.get_by_role("link", name=enquiry.reference).click()
    expect(page.get_by_role("heading", name="Second opinion", exact=True)).to_be_visible()
    expect(page.locator(".opinion")).to_contain_text("Continue toxin; consider EMG guidance")
    page.screenshot(path=screenshot_dir / "second-opinion-answer.png", full_page=True)


def test_a_patient_editing_the_url_to_another_patients_document_is_refused(
    page: Page, demo_site, tmp_path
):
    owner = factories.user(role=Role.PATIENT, password="a long made-up passphrase")
    factories.patient(user=owner)
    letter = tmp_path / "private.pdf"
    letter.write_bytes(PDF)
    sign_in(page, demo_site, owner.email, "a long made-up passphrase")
    page.goto(demo_site + "/enquiries/second-opinion/")
    page.get_by_label("What would you like a second opinion on?").fill("Question")
    page.get_by_label("Your current diagnosis, as you were told it").fill("Diagnosis")
    page.get_by_label("Your current treatment (medicines, injections, therapy, surgery)").fill(
        "Treatment"
    )
    page.get_by_label("Letters and reports").set_input_files(str(letter))
    page.get_by_role("button", name="Send request").click()
    document = Enquiry.objects.get(sender=owner).documents.get()
    sign_out(page)

    sign_in(page, demo_site, data.DEMO_PATIENT_EMAIL, data.DEMO_PATIENT_PASSWORD)
    response = page.goto(f"{demo_site}/enquiries/documents/{document.pk}/")

    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
