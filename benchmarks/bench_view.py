"""Benchmark the step rate ``hedgesim view`` sustains in a browser (headless chromium).

Starts the view of a scenario (default: the Iran scenario), presses Play with the default play
interval (100 ms) and render interval (1 step), and counts the steps the page's clock shows over
SECONDS; then pauses and reads where the model itself got to (the page shows the server's steps
with a lag). Prints both rates and the time to the first drawn page. Figures only.

Run: .venv/bin/python benchmarks/bench_view.py [SCENARIO]
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.view_server import CHROMIUM, LAUNCH_ARGS, view_server  # noqa: E402

SECONDS = 10.0


def shown_step(page) -> int:
    return int(re.search(r"Step (\d+)", page.locator(".hedgesim-clock").inner_text()).group(1))


def main() -> None:
    scenario = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "scenarios" / "iran_2021.yaml")
    t0 = time.perf_counter()
    with sync_playwright() as pw, view_server(scenario) as url:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, timeout=120_000)
        page.locator(".hedgesim-clock").wait_for(timeout=120_000)
        ready = time.perf_counter() - t0
        page.get_by_role("button", name="▶").click()
        start, s0 = time.perf_counter(), shown_step(page)
        page.wait_for_timeout(SECONDS * 1000)
        elapsed, s1 = time.perf_counter() - start, shown_step(page)
        pause = page.get_by_role("button", name="❚❚")
        if pause.is_enabled():
            pause.click()
        page.wait_for_timeout(3000)  # let the page catch up with the model
        s2 = shown_step(page)
        browser.close()
    print(f"scenario: {Path(scenario).name}")
    print(f"server start to first drawn page: {ready:.1f} s")
    print(f"steps shown while playing: {s1 - s0} in {elapsed:.1f} s = {(s1 - s0) / elapsed:.2f}/s")
    print(f"steps the model took (shown after pausing): {s2 - s0} = {(s2 - s0) / elapsed:.2f}/s")


if __name__ == "__main__":
    main()
