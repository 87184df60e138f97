"""Full-page screenshots of the running app at desktop and phone widths.

    .venv/bin/python scripts/screenshot.py --base-url http://127.0.0.1:8000 \\
        --user admin --password PW --out screenshots/ / /pipelines/1/won/

Signs in through the real login form when --user is given, then saves ``<slug>-1440.png``
and ``<slug>-390.png`` for every path and prints the file names. ``--no-login`` (or no
--user) also photographs the sign-in page itself. Uses Debian's Chromium, since Playwright
cannot download its own browsers here.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
WIDTHS = (1440, 390)
LOGIN_PATH = "/accounts/login/"


def slug(path: str) -> str:
    """A file name for a path: "/" → "home", "/pipelines/1/won/" → "pipelines-1-won"."""
    cleaned = re.sub(r"[^a-zA-Z0-9]+", "-", path.split("#")[0]).strip("-").lower()
    return cleaned or "home"


def log_in(page: Page, base_url: str, user: str, password: str) -> None:
    page.goto(base_url + LOGIN_PATH)
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    if LOGIN_PATH in page.url:
        sys.exit(f"Could not sign in as {user!r}: still on the login page.")


def shoot(page: Page, url: str, target: Path) -> None:
    response = page.goto(url, wait_until="networkidle")
    if response is not None and response.status >= 400:
        print(f"warning: {url} answered {response.status}", file=sys.stderr)
    page.screenshot(path=str(target), full_page=True, animations="disabled")
    print(target)


def run(browser: Browser, args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base_url = args.base_url.rstrip("/")
    for width in WIDTHS:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, device_scale_factor=1, reduced_motion="reduce"
        )
        page = context.new_page()
        if args.no_login or not args.user:
            shoot(page, base_url + LOGIN_PATH, out / f"login-{width}.png")
        if args.user:
            log_in(page, base_url, args.user, args.password)
            for path in args.paths:
                shoot(page, base_url + path, out / f"{slug(path)}-{width}.png")
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", help="sign in as this user before the paths")
    parser.add_argument("--password", default="")
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--no-login", action="store_true", help="also photograph the sign-in page")
    parser.add_argument("paths", nargs="*", default=["/"], help="paths to photograph")
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            run(browser, args)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
