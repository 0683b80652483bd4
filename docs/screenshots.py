"""Take the screenshots of README.md into docs/screenshots/: the catalogue and the registration form
on a phone in German and in Arabic ("Languages"), and the workspace's login page on a phone and its
overview on a laptop ("For the office"), with the demo data and the demo coordinator.

    make screenshots

Uses a throw-away SQLite database and Debian's Chromium (/usr/bin/chromium) through Playwright.
"""
from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))

from booking import create_app  # noqa: E402
from booking.demo import DEMO_ACCOUNTS, ensure_demo_accounts, load_demo_data  # noqa: E402
from booking.extensions import db  # noqa: E402
from config import DevelopmentConfig  # noqa: E402

from tests.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        class Screenshots(DevelopmentConfig):
            DEBUG = False
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp}/screenshots.sqlite"
            BOOKING_MAIL_LOG = ""
            RATELIMIT_ENABLED = False

        app = create_app(Screenshots)
        with app.app_context():
            db.create_all()
            load_demo_data()
            ensure_demo_accounts()
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            shoot(url)
        finally:
            server.shutdown()


def shoot(url: str) -> None:
    from playwright.sync_api import sync_playwright

    coordinator = DEMO_ACCOUNTS[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for language in ("de", "ar"):
            phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale=language)
            page = phone.new_page()
            page.goto(f"{url}/")
            page.screenshot(path=str(OUT / f"catalogue-phone-{language}.png"), full_page=False)
            page.locator(".card h3 a").first.click()
            page.locator("#register").scroll_into_view_if_needed()
            page.locator("#register").screenshot(path=str(OUT / f"registration-phone-{language}.png"))
            phone.close()
        phone = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en")
        page = phone.new_page()
        page.goto(f"{url}/admin/login")
        page.screenshot(path=str(OUT / "workspace-login-phone.png"), full_page=True)
        laptop = browser.new_context(viewport=DESKTOP, locale="en")
        page = laptop.new_page()
        page.goto(f"{url}/admin/login")
        page.fill("#email", coordinator.email)
        page.fill("#password", coordinator.password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{url}/admin/")
        page.screenshot(path=str(OUT / "workspace-overview-laptop.png"), full_page=False)
        browser.close()


if __name__ == "__main__":
    main()
