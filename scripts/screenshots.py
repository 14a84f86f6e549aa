"""Screenshots of the main public pages at desktop and phone sizes, for a human to judge.

Usage: .venv/bin/python scripts/screenshots.py [BASE_URL] [OUT_DIR]
(defaults http://127.0.0.1:8000 and test-artifacts/screenshots; start `make run` first).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = {
    "home": "/",
    "types": "/dystonia/types/",
    "sites": "/sites/",
    "find-a-doctor": "/find-a-doctor/?site=london-neurosurgery-partnership&specialty=neurology",
    "site": "/sites/london-neurosurgery-partnership/",
    "practitioner": "/practitioners/amara-okafor/",
}
VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(base_url: str, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for device, (width, height) in VIEWPORTS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            for name, path in PAGES.items():
                page.goto(base_url + path)
                page.screenshot(path=out_dir / f"{name}-{device}.png", full_page=True)
            page.close()
        browser.close()
    print(f"Screenshots written to {out_dir}")  # noqa: T201


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        args[0] if args else "http://127.0.0.1:8000",
        Path(args[1]) if len(args) > 1 else Path("test-artifacts/screenshots"),
    )
