"""The two web pages driven in a real browser (Debian's Chromium via Playwright)
against the real stack: an organizer creates an event and uploads a group photo,
an attendee joins with the code, uploads a selfie and sees that photo appear in
"Your photos" without reloading; refusals show their message; invite links work.

Screenshots of both pages at phone and desktop widths land in /tmp/findme-pages-*.png.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from findme_devstack import faces
from findme_devstack.stack import Stack
from findme_devstack.unavailable import skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    skip_or_fail("Debian's chromium is not installed (/usr/bin/chromium)", module=True)

from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
SCREENSHOTS = Path("/tmp")
# The attendee page polls every 10 s; processing one group photo takes a few more.
NEW_PHOTO_TIMEOUT_MS = 40_000
# The first thumbnail shown, fully decoded by the browser.
THUMBNAIL_LOADED = """() => {
  const img = document.querySelector('#photo-grid img');
  return Boolean(img && img.complete && img.naturalWidth > 0);
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Tab:
    """One page in its own context (own sessionStorage), failing on any script or
    CSP error the page logs."""

    def __init__(self, browser: Browser, url: str, viewport: ViewportSize) -> None:
        self.context: BrowserContext = browser.new_context(viewport=viewport)
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium logs every refused API call ("Failed to load resource: ... 422");
        # those are the refusals under test, not faults of the page.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def screenshot(self, name: str) -> None:
        for label, size in (("390", PHONE), ("1280", DESKTOP)):
            self.page.set_viewport_size(size)
            self.page.screenshot(
                path=SCREENSHOTS / f"findme-pages-{name}-{label}.png", full_page=True
            )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser: Browser) -> Iterator[list[Tab]]:
    opened: list[Tab] = []
    yield opened
    for tab in opened:
        tab.close()
    assert [e for tab in opened for e in tab.errors] == []


def open_tab(tabs: list[Tab], browser: Browser, url: str, viewport: ViewportSize) -> Page:
    tab = Tab(browser, url, viewport)
    tabs.append(tab)
    return tab.page


def organizer_with_event(page: Page) -> str:
    """Sign up on the organizer page and create an event; its code."""
    field(page, "Email").fill(f"org-{uuid.uuid4().hex[:8]}@example.com")
    field(page, "Password").fill("correct horse 1")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#events-status")).to_have_text("No events yet: create one below.")
    field(page, "Event name").fill("Garden party")
    field(page, "First day").fill("2025-06-01")
    page.get_by_role("button", name="Create event").click()
    expect(page.locator("#event-status")).to_contain_text("Event created.")
    code = page.locator("#event-code").inner_text()
    expect(page.locator("#event-list li")).to_have_count(1)
    expect(page.locator("#event-list")).to_contain_text(code)
    return code


def field(page: Page, label: str) -> Locator:
    """The visible input with this label (the attendee page has hidden twins)."""
    return page.get_by_label(label).filter(visible=True)


def upload_photos(page: Page, *paths: Path) -> None:
    field(page, "Photos (").set_input_files([str(p) for p in paths])
    page.get_by_role("button", name="Upload photos").click()


def answer_once(page: Page, path: str, status: int, code: str, *, retry_after: int) -> list[str]:
    """Answer the next call to ``path`` with this refusal, let later ones through;
    the list records what happened to each call."""
    seen: list[str] = []

    def handle(route: Route) -> None:
        if seen:
            seen.append("passed")
            route.continue_()
            return
        seen.append("answered")
        route.fulfill(
            status=status,
            headers={"Retry-After": str(retry_after)},
            content_type="application/json",
            body=json.dumps({"error": {"code": code, "message": code.replace("_", " ")}}),
        )

    page.unroute("**" + path)
    page.route("**" + path, handle)
    return seen


def test_attendee_sees_new_photo_without_reload(
    stack: Stack, browser: Browser, tabs: list[Tab], faces_dir: Path
) -> None:
    organizer = open_tab(tabs, browser, f"{stack.url}/organizer", DESKTOP)
    code = organizer_with_event(organizer)

    attendee = open_tab(tabs, browser, stack.url, PHONE)
    field(attendee, "Event code").fill(code)
    expect(attendee.locator("#event-code-hint")).to_have_text("Event: Garden party")
    field(attendee, "Username").fill("ann")
    expect(attendee.locator("#username-hint")).to_have_text("Available.")
    attendee.screenshot(path=SCREENSHOTS / "findme-pages-join-390.png")
    field(attendee, "Password").fill("attendee pass 1")
    attendee.get_by_role("button", name="Register").click()
    expect(attendee.locator("#who")).to_have_text("ann")

    # A refusal: the selfie service finds no face in a photo of a cup of coffee.
    field(attendee, "Selfie (").set_input_files(str(faces_dir / faces.NO_FACE))
    attendee.get_by_role("button", name="Upload selfie").click()
    expect(attendee.locator("#selfie-status")).to_have_text(
        "No face found. Use a clear, well-lit photo of your face."
    )

    field(attendee, "Selfie (").set_input_files(str(faces_dir / faces.OBAMA))
    attendee.get_by_role("button", name="Upload selfie").click()
    expect(attendee.locator("#selfie-status")).to_have_text(
        "Face found. You appear in 0 photos so far."
    )
    expect(attendee.locator("#photos-status")).to_contain_text("No photos of you yet")

    # The page must not reload: a marker on window survives only if it does not.
    attendee.evaluate("window.findmeNoReload = true")
    upload_photos(organizer, faces_dir / faces.TWO_PEOPLE)
    expect(organizer.locator("#upload-status")).to_have_text("1 photo accepted.")
    expect(organizer.locator("#progress-text")).to_contain_text("1 done", timeout=30_000)
    expect(organizer.locator("#stats")).to_contain_text("Attendees1")

    attendee.wait_for_function(THUMBNAIL_LOADED, timeout=NEW_PHOTO_TIMEOUT_MS)
    assert attendee.evaluate("window.findmeNoReload") is True
    expect(attendee.locator("#photo-grid li")).to_have_count(1)
    expect(attendee.locator("#photos-status")).to_have_text("1 new photo of you.")

    # The full-size copy opens in a dialog, also fetched with the token.
    attendee.locator("#photo-grid button").first.click()
    expect(attendee.locator("#viewer")).to_be_visible()
    attendee.wait_for_function("() => document.querySelector('#viewer-image').naturalWidth > 0")
    attendee.screenshot(path=SCREENSHOTS / "findme-pages-viewer-390.png")
    attendee.keyboard.press("Escape")
    expect(attendee.locator("#viewer")).to_be_hidden()

    tabs[1].screenshot("attendee")
    tabs[0].screenshot("organizer")


def test_per_file_refusal_invite_and_deletions(
    stack: Stack, browser: Browser, tabs: list[Tab], faces_dir: Path, tmp_path: Path
) -> None:
    organizer = open_tab(tabs, browser, f"{stack.url}/organizer", PHONE)
    organizer_with_event(organizer)

    # One file that is not an image: refused by name, the photo beside it accepted.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    upload_photos(organizer, faces_dir / faces.TWO_PEOPLE, notes)
    expect(organizer.locator("#upload-status")).to_have_text(
        "1 photo accepted; 1 file refused (listed below)."
    )
    expect(organizer.locator("#refused li")).to_have_text(
        ["notes.txt: That file type is not supported. Use JPEG, PNG, WebP or HEIC."]
    )

    organizer.get_by_role("button", name="Create invite link").click()
    invite_url = field(organizer, "Invite link").input_value()
    assert "/#invite=" in invite_url

    # The invite link: username, password and selfie in one step, no event code.
    guest = open_tab(tabs, browser, invite_url, PHONE)
    expect(guest.locator("#account")).to_be_hidden()
    field(guest, "Username").fill("bo")
    field(guest, "Password").fill("attendee pass 2")
    field(guest, "Selfie (").set_input_files(str(faces_dir / faces.OBAMA))
    guest.get_by_role("button", name="Join").click()
    expect(guest.locator("#invite-status")).to_have_text(
        "Usernames are 3 to 32 letters or digits (and . _ -)."
    )
    tabs[-1].screenshot("invite")
    field(guest, "Username").fill("bobby")
    guest.get_by_role("button", name="Join").click()
    expect(guest.locator("#who")).to_have_text("bobby")
    assert "invite" not in guest.url

    # A busy service (503 + Retry-After) is retried once by itself; a rate limit
    # (429 + Retry-After) is explained with its wait. Provoking either for real
    # needs a flood, so the browser answers the first call itself.
    busy = answer_once(guest, "/api/upload-selfie", 503, "overloaded", retry_after=1)
    field(guest, "Selfie (").set_input_files(str(faces_dir / faces.OBAMA))
    guest.get_by_role("button", name="Upload selfie").click()
    expect(guest.locator("#selfie-status")).to_have_text(
        "The service is busy; trying again in 1 second..."
    )
    expect(guest.locator("#selfie-status")).to_contain_text("Face found.")
    assert busy == ["answered", "passed"]
    limited = answer_once(guest, "/api/upload-selfie", 429, "rate_limited", retry_after=7)
    guest.get_by_role("button", name="Upload selfie").click()
    expect(guest.locator("#selfie-status")).to_have_text(
        "Too many requests from this device. Please wait a moment. Try again in 7 seconds."
    )
    assert limited == ["answered"]

    guest.once("dialog", lambda dialog: dialog.accept())
    guest.get_by_role("button", name="Delete my data").click()
    expect(guest.locator("#session-status")).to_have_text(
        "Your account, selfie and matches were deleted."
    )
    expect(guest.locator("#account")).to_be_visible()
    assert guest.evaluate("sessionStorage.getItem('findme.session')") is None

    organizer.once("dialog", lambda dialog: dialog.accept())
    organizer.get_by_role("button", name="Delete event").click()
    expect(organizer.locator("#session-status")).to_contain_text("deleted")
    expect(organizer.locator("#event")).to_be_hidden()
    expect(organizer.locator("#event-list li")).to_have_count(0)


def test_is_this_you_not_me_and_missing_a_photo(
    stack: Stack, browser: Browser, tabs: list[Tab], faces_dir: Path
) -> None:
    """The maybe tier on the attendee page (the faces and distances of
    test_suggestions.py): answers move photos between "Is this you?" and "Your
    photos"; "Not me" in the viewer; "Missing a photo?" asks for a closer look."""
    names = ["selfies/obama.jpg", "variants/obama_partial_face.jpg", "selfies/obama3.jpg"]
    with httpx.Client(base_url=stack.url, timeout=60) as http:
        token = http.post(
            "/api/organizers",
            json={"email": f"org-{uuid.uuid4().hex[:8]}@example.com", "password": "org pass 12"},
        ).json()["access_token"]
        organizer = {"Authorization": f"Bearer {token}"}
        event = http.post(
            "/api/events", json={"name": "Strict", "match_tolerance": 0.3}, headers=organizer
        ).json()
        joined = http.post(
            "/api/register-with-event-code",
            json={"event_code": event["code"], "username": "obama", "password": "obama pass 1"},
        ).json()
        me = {"Authorization": f"Bearer {joined['access_token']}"}
        selfie = (faces_dir / "selfies/obama2.jpg").read_bytes()
        assert http.post("/api/upload-selfie", headers=me, files={"file": selfie}).is_success
        files = [("files", (n, (faces_dir / n).read_bytes())) for n in [*names, faces.NO_FACE]]
        added = http.post(f"/api/events/{event['id']}/photos", headers=organizer, files=files)
        photo = dict(
            zip([*names, "coffee"], [p["id"] for p in added.json()["photos"]], strict=True)
        )
        while http.get(f"/api/events/{event['id']}/progress", headers=organizer).json()["done"] < 4:
            time.sleep(0.3)

    attendee = open_tab(tabs, browser, stack.url, PHONE)
    field(attendee, "Event code").fill(event["code"])
    field(attendee, "Username").fill("obama")
    field(attendee, "Password").fill("obama pass 1")
    attendee.get_by_role("button", name="Log in").click()
    strip = attendee.locator("#maybe-strip li")
    expect(strip).to_have_count(3)
    expect(attendee.locator("#photos-status")).to_contain_text("No photos of you yet")
    tabs[-1].screenshot("is-this-you")

    def card(name: str) -> Locator:
        return attendee.locator(f'#maybe-strip li[data-photo="{photo[name]}"]')

    card(names[0]).get_by_role("button", name="That's me").click()
    expect(attendee.locator("#maybe-status")).to_contain_text("Added to your photos.")
    # The confirmed face brings the partial face with it (0.25 from it).
    expect(attendee.locator("#photo-grid li")).to_have_count(2)
    expect(strip).to_have_count(1)
    card(names[2]).get_by_role("button", name="Not me").click()
    expect(attendee.locator("#maybe")).to_be_hidden()

    attendee.locator("#photo-grid button").first.click()
    expect(attendee.locator("#viewer")).to_be_visible()
    attendee.get_by_role("button", name="Not me").click()
    expect(attendee.locator("#viewer")).to_be_hidden()
    expect(attendee.locator("#photo-grid li")).to_have_count(1)

    attendee.locator("#missing summary").click()
    field(attendee, "Photo number").fill("999999999")
    attendee.get_by_role("button", name="Look for me again").click()
    expect(attendee.locator("#missing-status")).to_have_text("That photo is no longer available.")
    field(attendee, "Photo number").fill(str(photo["coffee"]))
    attendee.get_by_role("button", name="Look for me again").click()
    expect(attendee.locator("#missing-status")).to_have_text(
        "We looked closer and did not find you in that photo.", timeout=60_000
    )
    tabs[-1].screenshot("missing-a-photo")
