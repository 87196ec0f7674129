"""Make docs/view.png, the README's picture of ``hedgesim view``, with Playwright.

Starts the view of the Iran scenario, sets Render Interval to its largest value (100 steps) so
that one press of Step takes the run to April 2013, and saves a screenshot of the page, reduced
to a 256-colour palette so the one binary the repository keeps stays small (< 200 KB).

Run: .venv/bin/python scripts/screenshot.py [OUT]   (needs `make test`'s setup: chromium, assets)
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.view_server import CHROMIUM, LAUNCH_ARGS, view_server  # noqa: E402

SIZE = {"width": 1400, "height": 900}


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "view.png"
    with sync_playwright() as pw, view_server(ROOT / "scenarios" / "iran_2021.yaml") as url:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport=SIZE)
        page.goto(url, timeout=120_000)
        clock = page.locator(".hedgesim-clock")
        expect(clock).to_have_text(re.compile(r"^Step 0 "), timeout=120_000)
        # one press of Step runs `Render Interval` steps: the slider's End key sets its maximum
        page.get_by_role("slider", name="Render Interval (steps)").focus()
        page.keyboard.press("End")
        page.get_by_role("button", name="Step").click()
        expect(clock).to_have_text(re.compile(r"^Step 100 "), timeout=120_000)
        page.wait_for_timeout(3000)  # the figures arrive after the clock
        png = page.screenshot()
        browser.close()
    img = Image.open(io.BytesIO(png)).convert("RGB").quantize(256)
    img.save(out, optimize=True)
    print(f"{out}: {out.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
