"""Headless Chromium for the tests: Selenium 4 driving the distribution's chromedriver.

The browser and driver come from Debian (`scripts/ensure-chromium.sh` installs
them); their paths can be overridden with NHIEMVU_CHROMIUM and
NHIEMVU_CHROMEDRIVER. Both paths are given to Selenium explicitly so that it
never runs Selenium Manager, which would try to download a browser.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMEDRIVER_CANDIDATES = ("chromedriver",)

# Offline and quiet: no sync, no component or safe-browsing updates, nothing that
# would reach the network or write outside the throw-away profile.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # tests run as root in containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # /dev/shm is tiny in containers
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--window-size=1280,1000",
)


def _which(env: str, names: tuple[str, ...]) -> str | None:
    override = os.environ.get(env)
    if override:
        return override if Path(override).is_file() else None
    for name in names:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None
        )
        if found:
            return found
    return None


def locate() -> tuple[str | None, str | None, str | None]:
    """(chromium, chromedriver, reason): the reason says what is missing, if anything."""
    chromium = _which("NHIEMVU_CHROMIUM", CHROMIUM_CANDIDATES)
    driver = _which("NHIEMVU_CHROMEDRIVER", CHROMEDRIVER_CANDIDATES)
    missing = [
        name for name, path in (("chromium", chromium), ("chromedriver", driver)) if not path
    ]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the Python package selenium")
    reason = None
    if missing:
        reason = (
            f"headless browser test needs {' and '.join(missing)}; "
            "run scripts/ensure-chromium.sh (apt: chromium chromium-driver)"
        )
    return chromium, driver, reason


def start(chromium: str, chromedriver: str, profile_dir: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    # Console messages (errors included) become readable through get_log("browser").
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)


def severe_console_messages(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def full_page_png(driver) -> bytes:
    """The whole page, not just the window: Chrome draws beyond the viewport on request."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    return base64.b64decode(shot["data"])


def print_pdf(driver) -> bytes:
    """What "Print → Save as PDF" gives: print stylesheet, @page size and margins."""
    result = driver.execute_cdp_cmd(
        "Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True}
    )
    return base64.b64decode(result["data"])


def emulate_print(driver, on: bool = True) -> None:
    """Apply the print stylesheet to the live page, so its effects can be inspected."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print" if on else ""})
