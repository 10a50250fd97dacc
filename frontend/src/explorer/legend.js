// Legends for the current colouring: categories with counts (click to show or hide a value, search when
// the list is long), or the colour ramp of a continuous value.
import { h, formatCount } from "./dom.js";
import { rampCss, continuousRamp } from "./colors.js";

const SEARCH_FROM = 10;

export function categoryLegend({ column, categories, colors, counts, hidden, onToggle, onOnly, onShowAll, onSelect }) {
  const hiddenSet = new Set(hidden);
  const rows = categories.map((name, code) =>
    h(
      "li",
      { class: hiddenSet.has(name) ? "legend-row hidden" : "legend-row", "data-category": name },
      h("button", { class: "legend-toggle", title: "Show or hide", onclick: () => onToggle(name) },
        h("span", { class: "swatch", style: { background: colors[code] } }),
        h("span", { class: "legend-name" }, name),
        h("span", { class: "legend-count" }, formatCount(counts[code] || 0))),
      h("button", { class: "legend-only", title: `Show only ${name}`, onclick: () => onOnly(name) }, "only"),
    ),
  );
  const list = h("ul", { class: "legend-list" }, rows);
  const search =
    categories.length >= SEARCH_FROM
      ? h("input", {
          class: "legend-search",
          type: "search",
          placeholder: `Search ${categories.length} values`,
          oninput: (event) => {
            const needle = event.target.value.trim().toLowerCase();
            for (const row of rows) row.hidden = needle && !row.dataset.category.toLowerCase().includes(needle);
          },
        })
      : null;
  return h(
    "section",
    { class: "legend", "data-column": column },
    h("div", { class: "legend-actions" },
      h("button", { onclick: onShowAll }, "Show all"),
      h("button", { onclick: onSelect, title: "Select the cells of the shown values" }, "Select shown")),
    search,
    list,
  );
}

export function continuousLegend({ label, min, max }) {
  const fmt = (v) => (Number.isFinite(v) ? Number(v).toPrecision(3) : "–");
  return h(
    "section",
    { class: "legend continuous" },
    h("h2", { class: "legend-label" }, label),
    h("div", { class: "ramp", style: { background: rampCss(continuousRamp()) } }),
    h("div", { class: "ramp-ticks" }, h("span", {}, fmt(min)), h("span", {}, fmt((min + max) / 2)), h("span", {}, fmt(max))),
  );
}

export function categoryCounts(codes, nCategories, visibleMask) {
  const counts = new Uint32Array(nCategories + 1);
  for (let i = 0; i < codes.length; i++) if (!visibleMask || visibleMask[i]) counts[codes[i]]++;
  return counts;
}
