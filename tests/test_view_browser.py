"""``hedgesim view`` in a real browser (Playwright driving Debian's chromium, headless).

Each test starts the server on a free port and reads the page as a user would: the clock
("Step 3 of 200 · March 2005"), the ties listed under "Ties as text", the figures' pixels. The
two tests run side by side under ``pytest -n 2``. Missing chromium or Solara assets FAIL the
tests with what to install (``make test`` installs both), never a silent skip.
"""

from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect  # no importorskip: a missing extra must fail

from tests.view_server import CHROMIUM, LAUNCH_ARGS, ROOT, missing_setup, view_server

STEP_0 = re.compile(r"^Step 0 ")
TIMEOUT_MS = 60_000  # a first page load compiles Solara's front-end on a shared 2-core machine


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options, pointed at the system chromium."""
    why = missing_setup()
    if why:
        pytest.fail(why, pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": LAUNCH_ARGS}


def clock(page: Page) -> str:
    return page.locator(".hedgesim-clock").inner_text()


def step_of(page: Page) -> int:
    m = re.search(r"Step (\d+)", clock(page))
    assert m, clock(page)
    return int(m.group(1))


def wait_step(page: Page, at_least: int) -> int:
    """Wait until the clock shows a step >= ``at_least``; the step shown."""
    expect(page.locator(".hedgesim-clock")).to_have_text(
        re.compile(r"Step (\d+)"), timeout=TIMEOUT_MS
    )
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while (t := step_of(page)) < at_least:
        assert time.monotonic() < deadline, f"clock stuck at {clock(page)!r}"
        page.wait_for_timeout(100)
    return t


def steps(page: Page, n: int) -> None:
    """Press Step ``n`` times, each time waiting for the clock to move on."""
    for _ in range(n):
        t = step_of(page)
        page.get_by_role("button", name="Step").click()
        wait_step(page, t + 1)


def ties(page: Page) -> dict[str, str]:
    """Each state's ties as the page lists them: ``{"IRN": "friendship RUS, ...", ...}``."""
    box = page.locator(".hedgesim-ties")
    if not box.is_visible():
        page.get_by_text("Ties as text").click()
        expect(box).to_be_visible(timeout=TIMEOUT_MS)
    lines = box.inner_text().strip().splitlines()
    return dict(line.split(": ", 1) for line in lines)


def switch(page: Page, mechanism: str, on: bool) -> None:
    """Set a mechanism's checkbox by clicking its label, as a user does (Vuetify's ripple covers
    the input itself)."""
    box = page.get_by_role("checkbox", name=mechanism, exact=True)
    page.locator("label", has_text=re.compile(f"^{mechanism}$")).click()
    if on:
        expect(box).to_be_checked(timeout=TIMEOUT_MS)
    else:
        expect(box).not_to_be_checked(timeout=TIMEOUT_MS)


def pause(page: Page) -> None:
    """Pause a playing run; one that has reached its last step has stopped by itself (the page
    shows the server's steps with a lag, so it may have run on to the end meanwhile)."""
    button = page.get_by_role("button", name="❚❚")
    if button.is_enabled():
        button.click()
    expect(page.get_by_role("button", name="▶")).to_be_visible(timeout=TIMEOUT_MS)


def reset(page: Page) -> None:
    page.get_by_role("button", name="Reset").click()
    expect(page.locator(".hedgesim-clock")).to_have_text(
        re.compile(r"^Step 0 "), timeout=TIMEOUT_MS
    )


def open_view(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(url, timeout=TIMEOUT_MS)
    expect(page.locator(".hedgesim-clock")).to_have_text(
        re.compile(r"^Step 0 "), timeout=TIMEOUT_MS
    )


def test_toy_view_draws_steps_plays_and_switches(page: Page) -> None:
    with view_server(ROOT / "scenarios" / "toy_triangle.yaml") as url:
        open_view(page, url)
        assert clock(page) == "Step 0 of 120"  # toy_triangle has no calendar: no date
        at_start = ties(page)
        assert set(at_start) == {"A", "B", "S", "R"}, at_start  # every state, nothing else

        # the figures are drawn, not blank: the network image has real contrast
        img = page.locator(".hedgesim-clock ~ * img, img").first
        expect(img).to_be_visible(timeout=TIMEOUT_MS)
        pixels = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("L"), dtype=float)
        assert pixels.std() > 20, f"screenshot looks blank (grey-level std {pixels.std():.1f})"
        shot = np.asarray(Image.open(io.BytesIO(img.screenshot())).convert("L"), dtype=float)
        assert shot.std() > 10 and (shot < 128).mean() > 0.001, "network figure is blank"

        # Step advances the clock and the ties change (toy_triangle: A-R friends at step 1)
        steps(page, 3)
        assert step_of(page) == 3
        after_steps = ties(page)
        assert after_steps != at_start

        # Play runs on by itself until paused
        page.get_by_role("button", name="▶").click()
        wait_step(page, 6)
        pause(page)

        # same replication, autonomy on vs off: the next steps differ; on again: as before
        reset(page)
        steps(page, 3)
        with_autonomy = ties(page)
        assert with_autonomy == after_steps  # a reset replays the same run
        switch(page, "autonomy", False)
        reset(page)
        steps(page, 3)
        without_autonomy = ties(page)
        assert without_autonomy != with_autonomy
        switch(page, "autonomy", True)
        reset(page)
        steps(page, 3)
        assert ties(page) == with_autonomy


def test_iran_view_serves_dates_and_iran_ties_change_as_it_plays(page: Page) -> None:
    with view_server(ROOT / "scenarios" / "iran_2021.yaml") as url:
        open_view(page, url)
        assert clock(page) == "Step 0 of 200 · January 2005"
        before = ties(page)
        assert {"IRN", "USA", "CHN", "RUS"} <= set(before)
        page.get_by_role("button", name="▶").click()
        wait_step(page, 3)
        pause(page)
        assert "2005" in clock(page)
        assert ties(page)["IRN"] != before["IRN"]  # Iran's ties change as it plays
