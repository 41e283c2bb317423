"""The interactive page, end to end: ``lunarsim app`` serves it on localhost, headless Chromium
(the system's, driven by Playwright; nothing is downloaded) changes controls, steps, and reads
the numbers, which must be those of ``lunarsim run`` for the same scenario, seed and steps.

Skipped, with the reason, where there is no Chromium (Debian: ``apt-get install chromium``;
``.ci/run`` installs it) or no Playwright; ``LUNARSIM_CHROMIUM`` names another browser binary.
Screenshots (each test's last page, and the two scenarios at step 9) are kept in the folder
``LUNARSIM_SCREENSHOTS`` names, if it does, to be looked at. Where ``LUNARSIM_REQUIRE_BROWSER`` is set (as
``.ci/run`` sets it), a missing browser fails instead of skipping.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

CHROMIUM = os.environ.get("LUNARSIM_CHROMIUM") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
if CHROMIUM is None and os.environ.get("LUNARSIM_REQUIRE_BROWSER"):
    pytest.fail("no Chromium, and LUNARSIM_REQUIRE_BROWSER is set", pytrace=False)
if CHROMIUM is None:
    pytest.skip("no Chromium on this machine (apt-get install chromium, or set "
                "LUNARSIM_CHROMIUM): the page is not tested in a browser", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed "
                                 "(pip install -e '.[test]')")
if importlib.util.find_spec("solara") is None:
    pytest.skip("the app extra is not installed (pip install -e '.[app]')", allow_module_level=True)

# As the machine's probe starts it: no first-run work, no calls to Google's services
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 90_000  # a busy 2-core CI machine draws six figures per click


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``lunarsim app`` as a user starts it, on a free port; stopped after the tests."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the page's server did not start:\n{log.read_text()}")
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def keep(page, request, what: str = "") -> None:
    """A screenshot of the page now, where ``LUNARSIM_SCREENSHOTS`` says, to be looked at."""
    folder = os.environ.get("LUNARSIM_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{request.node.name}{what}.png"))


@pytest.fixture()
def page(server, request):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 3400})
        errors: list[str] = []
        tab.on("pageerror", lambda err: errors.append(str(err)))
        tab.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
               else None)
        tab.set_default_timeout(WAIT_MS)
        tab.goto(server)
        tab.wait_for_selector(".lunarsim-summary[data-side='0']")
        yield tab
        keep(tab, request)
        browser.close()
        assert errors == [], errors  # no script error, nothing the page asked for missing


def status(page) -> str:
    return page.inner_text(".lunarsim-status")


def wait_for_step(page, step: int) -> None:
    page.wait_for_function(
        f"document.querySelector('.lunarsim-status')?.innerText.startsWith('Step {step} of')")
    page.wait_for_load_state("networkidle")


def shown(page, side: int) -> dict[str, str]:
    """The headline numbers the page shows for one scenario."""
    items = page.query_selector_all(f".lunarsim-summary[data-side='{side}'] .lunarsim-value")
    return {item.get_attribute("data-what"): item.inner_text() for item in items}


def table(page, side: int) -> list[list[str]]:
    rows = page.query_selector_all(f".lunarsim-summary[data-side='{side}'] table tr")[1:]
    return [[cell.inner_text() for cell in row.query_selector_all("td")] for row in rows]


def figure_sources(page) -> list[str]:
    return [img.get_attribute("src") for img in page.query_selector_all("img")]


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the drop-down labelled ``label`` (a Vuetify select)."""
    page.locator(".v-select", has_text=label).first.click()
    page.locator(".v-menu__content .v-list-item", has_text=re.compile(f"^{re.escape(option)}$")
                 ).first.click()


def cli_run(tmp_path: Path, *args: str) -> tuple[str, pd.DataFrame]:
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", "run", *args, "--out", str(out),
                           "--no-figure"], capture_output=True, text=True, check=False,
                          env=os.environ | {"COLUMNS": "300"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, pd.read_parquet(out / "summary_nations.parquet")


def test_the_page_steps_two_scenarios_and_shows_the_numbers_of_lunarsim_run(page, tmp_path,
                                                                           request):
    assert status(page).startswith("Step 0 of 100")
    assert shown(page, 0)["cooperation"] == "—"  # nobody has played yet
    # change controls: the comparison, the seed and one parameter (its slider to the top)
    # scenarios by the report's labels, not their names
    assert page.inner_text(".lunarsim-summary[data-side='0'] h3") == "Artemis Accords (baseline)"
    choose(page, "Compare with", "US-China cooperation")
    page.wait_for_selector(".lunarsim-summary[data-side='1'] h3:text('US-China cooperation')")
    assert "Runs on Solara" not in page.inner_text("body")  # the banner covered a chart
    seed = page.get_by_label("Seed", exact=True)
    seed.fill("5")
    seed.press("Enter")
    page.wait_for_function("document.querySelector('.lunarsim-status').innerText.endsWith('seed 5')")
    slider = page.locator(".lunarsim-parameter[data-name='economics.synergy'] [role='slider']")
    slider.focus()
    slider.press("End")
    page.wait_for_selector(".lunarsim-parameter[data-name='economics.synergy'] p:text('0.4')")
    before = figure_sources(page)
    # run: a year (4 steps), a year, then one step
    page.click(".lunarsim-year")
    wait_for_step(page, 4)
    page.click(".lunarsim-year")
    wait_for_step(page, 8)
    page.click(".lunarsim-step")
    wait_for_step(page, 9)
    after = figure_sources(page)
    assert len(after) == len(before) == 5  # over time, then a matrix and a map per scenario
    assert all(a != b for a, b in zip(after, before, strict=True)), "a figure was not redrawn"
    keep(page, request, "-step9")

    for side, name in enumerate(["baseline", "us_china_cooperation"]):
        command = page.inner_text(f".lunarsim-summary[data-side='{side}'] code")
        assert command == (f"lunarsim run {name} --seed 5 --steps 9 "
                           "--set economics.synergy=0.4")
        printed, nations = cli_run(tmp_path / name, name, "--seed", "5", "--steps", "9",
                                   "--set", "economics.synergy=0.4")
        numbers = shown(page, side)
        line = " · ".join(f"{what} {value}" for what, value in numbers.items())
        assert line in " ".join(printed.split()), (line, printed)
        rows = table(page, side)
        assert [r[0] for r in rows] == list(nations["nation"])
        for row, (_, nation) in zip(rows, nations.iterrows(), strict=True):
            assert float(row[2].replace(",", "")) == pytest.approx(nation["welfare_usd_bn"],
                                                                   abs=0.005)
            assert float(row[3].replace(",", "")) == pytest.approx(nation["propellant_t"], abs=0.5)
            assert int(row[5]) == nation["incidents"]

    page.click(".lunarsim-reset")
    wait_for_step(page, 0)
    # the summaries are drawn after the status line: under load they may lag it a moment
    page.wait_for_selector(".lunarsim-summary[data-side='0'] p:text('Step to start the run.')")
    assert shown(page, 0)["cooperation"] == "—"
    assert page.inner_text(".lunarsim-summary[data-side='0'] p") == "Step to start the run."
    assert page.locator(".lunarsim-parameter[data-name='economics.synergy'] p").inner_text(
        ).endswith("0.4")  # a reset keeps the parameters; only the run starts again


def test_a_run_to_the_end_reaches_the_horizon_and_stops(page):
    choose(page, "Compare with", "(none)")
    page.wait_for_function("document.querySelectorAll('.lunarsim-summary').length === 1")
    page.click(".lunarsim-run")
    wait_for_step(page, 100)
    assert page.locator(".lunarsim-step").is_disabled()
    assert page.locator(".lunarsim-run").is_disabled()
    assert re.fullmatch(r"-?[\d,]+\.\d\d USD bn", shown(page, 0)["total welfare"])
