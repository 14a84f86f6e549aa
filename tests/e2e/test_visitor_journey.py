"""A visitor reads about dystonia, finds a neurologist at 78 Harley Street, opens that site."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_visitor_finds_a_neurologist_at_the_harley_street_unit(
    page: Page, demo_site, screenshot_dir
):
    # Given a visitor on the home page
    page.goto(demo_site + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Specialist care for people with dystonia"
    )
    expect(page.get_by_text("Medical disclaimer")).to_be_visible()

    # When they read the types of dystonia
    page.get_by_role("link", name="Types of dystonia").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Types of dystonia")
    expect(page.get_by_role("heading", name="By the parts of the body affected")).to_be_visible()
    hemidystonia = page.locator("dt", has_text="Hemidystonia")
    expect(hemidystonia).to_be_visible()
    expect(hemidystonia.locator("xpath=following-sibling::dd[1]")).to_contain_text("same side")

    # And look for a neurologist at the specialist unit
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find a doctor").click()
    page.get_by_label("Site").select_option(label="London Neurosurgery Partnership")
    page.get_by_label("Specialty").select_option(label="Neurology")
    page.get_by_role("button", name="Show practitioners").click()

    # Then they see the unit's neurologists only
    results = page.locator("#results")
    expect(results.get_by_role("heading", name="3 practitioners found")).to_be_visible()
    expect(results.get_by_role("link", name="Dr Amara Okafor")).to_be_visible()
    expect(results).not_to_contain_text("Eleanor Whitfield")
    page.screenshot(path=screenshot_dir / "find-a-doctor.png", full_page=True)

    # When they open a neurologist and then the site they work at
    results.get_by_role("link", name="Dr Amara Okafor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dr Amara Okafor")
    page.get_by_role("link", name="London Neurosurgery Partnership").click()

    # Then the site's page shows its address, telephone, hours and services
    expect(page.get_by_role("heading", level=1)).to_have_text("London Neurosurgery Partnership")
    main = page.locator("main")
    expect(main).to_contain_text("78 Harley Street")
    expect(main).to_contain_text("W1G 7HJ")
    expect(main).to_contain_text("020 7946 0100")
    expect(main.get_by_role("link", name="Botulinum toxin clinic")).to_be_visible()
    page.screenshot(path=screenshot_dir / "site.png", full_page=True)


def test_filters_work_from_the_keyboard_alone(page: Page, demo_site):
    page.goto(demo_site + "/find-a-doctor/")

    # The skip link is the first stop and jumps to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    page.get_by_label("Service").focus()
    page.keyboard.press("End")  # the last service in the list: Second opinion
    page.get_by_label("Service").press("Enter")
    page.get_by_role("button", name="Show practitioners").press("Enter")

    expect(page.locator("#results")).to_contain_text("practitioners found")
    expect(page.locator("#results")).to_contain_text("Dr Amara Okafor")


def test_a_bad_filter_shows_an_error_beside_the_field(page: Page, demo_site):
    page.goto(demo_site + "/find-a-doctor/?q=" + "x" * 150)

    expect(page.locator("#id_q_error")).to_have_text("Search words can be at most 100 characters.")
    expect(page.get_by_label("Name or condition")).to_have_attribute("aria-invalid", "true")


def test_phone_sized_window_keeps_targets_large(page: Page, demo_site, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(demo_site + "/sites/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Our sites")
    # No sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for link in page.get_by_role("navigation", name="Main").get_by_role("link").all():
        box = link.bounding_box()
        assert box is not None
        assert box["height"] >= 44
    page.screenshot(path=screenshot_dir / "sites-phone.png", full_page=True)
