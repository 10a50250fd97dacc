"""The explorer in a real browser: colour, gene search, lasso, sets, DE, and a link that reproduces the view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ExplorerServer

pytestmark = pytest.mark.browser

SETTLED = "body[data-ready='1'][data-busy='0']"


def open_explorer(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 850})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(url)
    page.wait_for_selector(SETTLED, timeout=60_000)
    return page


def settle(page: Any) -> None:
    page.wait_for_selector(SETTLED, timeout=60_000)


def lasso(page: Any, points: list[tuple[float, float]]) -> None:
    """Draw a closed lasso through points given as fractions of the plot's width and height."""
    box = page.locator(".plot-canvas").bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in [*xy[1:], xy[0]]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()
    page.wait_for_function("document.querySelector('.selected-count').dataset.count > 0", timeout=30_000)
    settle(page)


def selected_count(page: Any) -> int:
    return int(page.locator(".selected-count").get_attribute("data-count"))


def de_symbols(page: Any) -> list[str]:
    return page.locator(".de-table tbody .gene-link").all_inner_texts()


def test_explore_colour_search_lasso_de_and_share(
    browser: Any, explorer_server: ExplorerServer, artifacts_dir: Path
) -> None:
    page = open_explorer(browser, f"{explorer_server.base_url}/e/{explorer_server.dataset_id}")
    assert "4,000 of 4,000 cells shown" in page.locator(".status").inner_text()
    assert page.locator(".dataset-title").inner_text() == "Dataset 1"
    page.screenshot(path=artifacts_dir / "01-opened.png")

    # Colour by a category: the legend lists each value with its count.
    page.select_option(".color-select", "obs:author_cell_type")
    settle(page)
    rows = page.locator(".legend-row")
    assert rows.count() >= 8
    counts = [int(c.replace(",", "")) for c in page.locator(".legend-count").all_inner_texts()]
    assert sum(counts) == 4000
    page.screenshot(path=artifacts_dir / "02-cell-types.png")

    # Hide one value, then show it again.
    page.locator(".legend-row[data-category='Platelet'] .legend-toggle").click()
    settle(page)
    platelets = counts[page.locator(".legend-name").all_inner_texts().index("Platelet")]
    assert f"{4000 - platelets:,} of 4,000 cells shown" in page.locator(".status").inner_text()
    page.locator(".legend-actions button", has_text="Show all").click()
    settle(page)

    # Search a gene by the start of its symbol and colour by it.
    page.fill(".gene-search", "MS4A")
    page.locator(".suggestion", has_text="MS4A1").first.click()
    settle(page)
    assert page.locator(".legend-label").text_content() == "MS4A1 expression"
    assert page.locator(".color-select").input_value() == "gene:MS4A1"
    assert page.locator(".histogram[data-title='MS4A1']").count() == 1
    page.screenshot(path=artifacts_dir / "03-gene.png")

    # Lasso the left half, save it as set 1; the right half as set 2; compare.
    page.locator("button.mode-lasso").click()
    lasso(page, [(0.02, 0.02), (0.48, 0.02), (0.48, 0.98), (0.02, 0.98)])
    first = selected_count(page)
    assert 0 < first < 4000
    page.locator("button.save-set1").click()
    settle(page)
    lasso(page, [(0.52, 0.02), (0.98, 0.02), (0.98, 0.98), (0.52, 0.98)])
    second = selected_count(page)
    assert 0 < second < 4000
    page.locator("button.save-set2").click()
    settle(page)
    page.locator("button.run-de").click()
    page.wait_for_selector(".de-table tbody tr", timeout=60_000)
    settle(page)
    symbols = de_symbols(page)
    assert len(symbols) > 10
    page.screenshot(path=artifacts_dir / "04-de.png")

    # Sort by a column, then click a gene of the table to colour by it.
    page.locator(".de-table th", has_text="log FC").click()
    page.locator(".de-table .gene-link").first.click()
    settle(page)
    coloured = page.locator(".legend-label").text_content()
    assert coloured.endswith(" expression")

    # The link reproduces the view in a fresh page: colour, selection, sets and the DE table.
    page.locator("button.copy-link").click()
    url = page.locator(".share-url").input_value()
    assert "color=gene" in url and "set1=" in url
    again = open_explorer(browser, url)
    again.wait_for_selector(".de-table tbody tr", timeout=60_000)
    settle(again)
    assert again.locator(".legend-label").text_content() == coloured
    assert selected_count(again) == selected_count(page)
    assert again.locator(".set.set1").get_attribute("data-count") == str(first)
    assert again.locator(".set.set2").get_attribute("data-count") == str(second)
    assert sorted(de_symbols(again)) == sorted(symbols)
    again.screenshot(path=artifacts_dir / "05-reopened.png")
    assert page.errors == [] and again.errors == []


def test_subset_and_back(browser: Any, explorer_server: ExplorerServer, artifacts_dir: Path) -> None:
    page = open_explorer(
        browser, f"{explorer_server.base_url}/e/{explorer_server.version_id}?color=obs:author_cell_type"
    )
    row = page.locator(".legend-row[data-category='B']")
    row.hover()  # "only" shows on hover
    row.locator(".legend-only").click()
    settle(page)
    page.locator(".legend-actions button", has_text="Select shown").click()
    settle(page)
    b_cells = selected_count(page)
    page.locator("button.subset").click()
    settle(page)
    assert f"{b_cells:,} of 4,000 cells shown" in page.locator(".status").inner_text()
    page.screenshot(path=artifacts_dir / "06-subset.png")
    page.locator("button.unsubset").click()
    settle(page)
    # The hidden values stay hidden after leaving the subset: only B cells are still shown.
    assert f"{b_cells:,} of 4,000 cells shown" in page.locator(".status").inner_text()
    page.locator(".legend-actions button", has_text="Show all").click()
    settle(page)
    assert "4,000 of 4,000 cells shown" in page.locator(".status").inner_text()
    assert page.errors == []


def test_histogram_brush_and_category_search(browser: Any, explorer_server: ExplorerServer) -> None:
    page = open_explorer(browser, f"{explorer_server.base_url}/e/{explorer_server.version_id}?color=obs:sample_id")
    # A long category list can be searched.
    total = page.locator(".legend-row").count()
    assert total >= 10
    page.fill(".legend-search", "D01")
    visible = page.locator(".legend-row:visible")
    assert 0 < visible.count() < total
    assert all("D01" in name for name in visible.locator(".legend-name").all_inner_texts())
    # Brushing the upper half of a continuous column's histogram selects the cells in that range.
    page.locator("details[data-column='n_counts'] summary").click()
    settle(page)
    canvas = page.locator("details[data-column='n_counts'] .histogram-canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 1, box["y"] + box["height"] / 2, steps=6)
    page.mouse.up()
    page.wait_for_function("document.querySelector('.selected-count').dataset.count > 0", timeout=30_000)
    settle(page)
    assert 0 < selected_count(page) < 4000
    assert "n_counts in [" in page.locator(".selected-count").inner_text()
    assert page.errors == []


def test_camera_is_in_the_link(browser: Any, explorer_server: ExplorerServer, artifacts_dir: Path) -> None:
    """Zoom and pan, copy the link, reopen it: the same camera; "Reset view" takes it out of the link again."""
    page = open_explorer(browser, f"{explorer_server.base_url}/e/{explorer_server.version_id}")
    assert "cam=" not in page.url
    box = page.locator(".plot-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    page.mouse.wheel(0, -400)  # zoom in around the pointer
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    page.wait_for_function("window.location.search.includes('cam=')", timeout=30_000)
    camera = page.evaluate("() => window.cellportalExplorer.plot.camera()")
    assert camera[2] < 1  # zoomed in
    page.screenshot(path=artifacts_dir / "07-zoomed.png")
    page.locator("button.copy-link").click()
    url = page.locator(".share-url").input_value()
    again = open_explorer(browser, url)
    reopened = again.evaluate("() => window.cellportalExplorer.plot.camera()")
    assert reopened == pytest.approx(camera, rel=1e-4, abs=1e-4)
    again.screenshot(path=artifacts_dir / "08-zoomed-reopened.png")
    again.locator("button.reset-view").click()
    again.wait_for_function("!window.location.search.includes('cam=')", timeout=30_000)
    assert again.evaluate("() => window.cellportalExplorer.plot.camera()") == [0, 0, 1]
    assert page.errors == [] and again.errors == []
