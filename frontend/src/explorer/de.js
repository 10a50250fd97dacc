// The differential expression results: a sortable table; clicking a gene colours the cells by it.
import { h, formatCount } from "./dom.js";

const COLUMNS = [
  { key: "symbol", label: "Gene", numeric: false },
  { key: "logfc", label: "log FC", numeric: true, title: "Difference of mean log expression, set 1 − set 2" },
  { key: "t", label: "t", numeric: true, title: "Welch's t statistic" },
  { key: "p_t_adj", label: "p adj (t)", numeric: true, title: "Welch's t-test p-value, Benjamini-Hochberg adjusted" },
  { key: "p_wilcoxon_adj", label: "p adj (W)", numeric: true,
    title: "Wilcoxon rank-sum p-value, Benjamini-Hochberg adjusted" },
  { key: "pct1", label: "% set 1", numeric: true, title: "Cells of set 1 expressing the gene" },
  { key: "pct2", label: "% set 2", numeric: true, title: "Cells of set 2 expressing the gene" },
];

export function deTable({ result, onGene }) {
  let sortKey = "t";
  let descending = true;
  const body = h("tbody");
  const header = h("tr");
  const fill = () => {
    const rows = [...result.genes];
    const sign = descending ? -1 : 1;
    rows.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      if (typeof x === "string") return sign * x.localeCompare(y) * -1;
      return sign * ((x ?? Infinity) - (y ?? Infinity));
    });
    body.replaceChildren(
      ...rows.map((g) =>
        h(
          "tr",
          { class: g.logfc >= 0 ? "up" : "down" },
          h("td", {}, h("button", { class: "gene-link", onclick: () => onGene(g.symbol), title: g.id }, g.symbol)),
          h("td", {}, g.logfc.toFixed(2)),
          h("td", {}, g.t.toFixed(1)),
          h("td", {}, formatP(g.p_t_adj)),
          h("td", {}, formatP(g.p_wilcoxon_adj)),
          h("td", {}, (100 * g.pct1).toFixed(0)),
          h("td", {}, (100 * g.pct2).toFixed(0)),
        ),
      ),
    );
    header.replaceChildren(
      ...COLUMNS.map((c) =>
        h(
          "th",
          {
            title: c.title,
            class: c.key === sortKey ? (descending ? "sorted desc" : "sorted asc") : "",
            onclick: () => {
              descending = sortKey === c.key ? !descending : c.numeric;
              sortKey = c.key;
              fill();
            },
          },
          c.label,
        ),
      ),
    );
  };
  fill();
  const against = result.mode === "rest" ? "the rest" : `set 2 (${formatCount(result.n2)} cells)`;
  return h(
    "section",
    { class: "de-results" },
    h("p", { class: "de-summary" },
      `Set 1 (${formatCount(result.n1)} cells) vs ${against}: top ${result.genes.length} of ${formatCount(result.n_genes)}`
      + ` genes by |t|, in ${result.elapsed_ms.toFixed(0)} ms.`),
    h("div", { class: "de-scroll" }, h("table", { class: "de-table" }, h("thead", {}, header), body)),
  );
}

function formatP(p) {
  if (p === null || p === undefined) return "–";
  if (p === 0) return "<1e-300";
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}
