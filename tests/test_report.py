"""`snakemake --report` on the tiny run, opened in a real browser: Debian's headless Chromium,
driven by Playwright (its Python package only; the browser is the system's /usr/bin/chromium)."""

import shutil
import zipfile
from collections import Counter
from pathlib import PurePosixPath

import pandas as pd
import pytest

from conftest import E2E_CONFIG, REPO, debian_package, run_snakemake

pytestmark = pytest.mark.e2e

# As root, Chromium needs --no-sandbox; without the networking flags it floods this machine's
# closed network with refused connections.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Kept after the test (CI artefact): the report page showing the ablation table.
SCREENSHOT = REPO / "results/test-artefacts/report.png"

# Every result, decoded by the browser itself: the report embeds them as data URIs.
DECODE_IMAGES = """async () => {
  const decoded = {};
  for (const [path, entry] of Object.entries(results)) {
    if (!entry.mime_type.startsWith("image/")) continue;
    const img = new Image();
    decoded[path] = await new Promise(done => {
      img.onload = () => done(img.naturalWidth > 0);
      img.onerror = () => done(false);
      img.src = entry.data_uri;
    });
  }
  return decoded;
}"""


@pytest.fixture(scope="module")
def report(tiny_run):
    for name in ("report.html", "report.zip"):
        run_snakemake(tiny_run, "--report", str(tiny_run / "results" / name), config=E2E_CONFIG)
    return tiny_run / "results"


@pytest.fixture(scope="module")
def browser():
    chromium = debian_package("chromium", "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


MODELS = ("minilm", "minilm-random", "toy")
RESULTS = {
    "results/tables/ablation.csv", "results/tables/ablation.html",
    "results/models/toy_history.csv", "results/plots/toy_history.png", "results/plots/toy_ablation.png",
    "results/plots/toy_dynamics.png",
    *(f"results/heads/{m}/tiny/arrow.{ext}" for m in MODELS for ext in ("csv", "png")),
    *(f"results/plots/{m}/{name}.png" for m in MODELS for name in ("f1", "training_curves")),
    *(f"results/analysis/{m}/tiny/arrow/{name}.png" for m in MODELS for name in ("head_roles", "attention_metrics")),
    "results/tables/behaviour.csv", "results/plots/behaviour/sink_sweep.png", "results/plots/layers.png",
    "results/plots/behaviour/toy/tiny/arrow/head_ablation.png", "results/plots/selectivity.png",
    "results/tables/logit_answers.csv", "results/plots/behaviour/toy/tiny/arrow/logit_answers.png",
    "results/plots/behaviour/toy/tiny/arrow/patching.png", "results/plots/behaviour/toy/tiny/arrow/encoding_use.png",
    "results/report/answer.rst",
}


def test_zip_report_holds_every_result(report):
    with zipfile.ZipFile(report / "report.zip") as archive:
        names = archive.namelist()
    # The zip keeps each result as report/data/raw/<hash>/<file name>.
    raw = [PurePosixPath(name).name for name in names if name.startswith("report/data/raw/")]
    assert Counter(raw) == Counter(PurePosixPath(path).name for path in RESULTS)
    assert "report/report.html" in names


def test_report_page_renders_the_table_and_every_image(report, browser):
    table = pd.read_csv(report / "tables/ablation.csv")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((report / "report.html").as_uri())

    assert set(page.evaluate("Object.keys(results)")) == RESULTS
    decoded = page.evaluate(DECODE_IMAGES)
    assert len(decoded) == sum(path.endswith(".png") for path in RESULTS) and all(decoded.values()), decoded

    # The introduction: the research question, the run's answer above the config of the run.
    page.get_by_role("link", name="Workflow").click()
    intro = page.inner_text("body")
    assert "attention heads encode the edges" in intro
    assert "minilm-random" in intro and "tiny (12 graphs of 3-4 nodes" in intro
    answer = (report / "report/answer.rst").read_text()
    first = answer.splitlines()[2].removeprefix("- ").replace("**", "").replace("``", "")
    assert first.startswith("minilm, parent: ") and first in intro
    assert "toy: of its top " in intro and intro.index(first) < intro.index("Config of this run")
    # The summary figures, embedded in the page: the selectivity figure and the toy's encoding
    # against use (its control's is not on the front page).
    shown = page.locator("img[src^='data:image/png']")
    assert shown.count() == 2
    assert all(page.evaluate("img => img.complete && img.naturalWidth", img) > 0 for img in shown.element_handles())

    # The ablation table, shown inline as HTML: one row per table row, with its numbers.
    page.get_by_role("link", name="Ablation table").click()
    page.locator("tr", has_text="results/tables/ablation.html").locator("a[iconname=eye]").click()
    frame = page.frame_locator("iframe")
    rows = frame.locator("tbody tr")
    rows.first.wait_for()
    assert rows.count() == len(table)
    headers = frame.locator("thead th").all_inner_texts()
    assert headers == list(table.columns)
    first = rows.first.locator("td").all_inner_texts()
    assert first[:3] == [str(table.iloc[0]["model"]), "tiny", "arrow"]
    assert float(first[headers.index("f1_mean")]) == pytest.approx(table.iloc[0]["f1_mean"], abs=5e-4)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT)
    shutil.copy(SCREENSHOT, report / "report-screenshot.png")

    # A figure opened from its category shows as a loaded image.
    page.get_by_role("link", name="Results").click()
    page.get_by_role("link", name="Head scores").click()
    page.get_by_role("link", name="minilm / tiny", exact=True).click()
    page.locator("tr", has_text="results/heads/minilm/tiny/arrow.png").locator("a[iconname=eye]").click()
    image = page.locator("img[src^='data:image/png']")
    image.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth", image.element_handle()) > 0
    assert errors == []
