// The dataset panel: what the reader is looking at, how to cite it, and where to download it.
import { h, formatCount } from "./dom.js";

export function datasetInfo(dataset) {
  const metadata = Object.entries(dataset.metadata || {}).filter(([, v]) => v !== null && v !== "");
  return h(
    "section",
    { class: "dataset-info" },
    h("h1", { class: "dataset-title" }, dataset.title || "Untitled dataset"),
    dataset.collection
      ? h("p", { class: "collection" }, "Collection: ",
          dataset.collection.url ? h("a", { href: dataset.collection.url }, dataset.collection.name) : dataset.collection.name)
      : null,
    h("p", { class: "cell-count" }, `${formatCount(dataset.cell_count)} cells · ${formatCount(dataset.gene_count)} genes`),
    dataset.citation ? h("details", { class: "citation" }, h("summary", {}, "Cite"), h("p", {}, dataset.citation)) : null,
    metadata.length
      ? h("details", { class: "metadata" }, h("summary", {}, "Metadata"),
          h("dl", {}, metadata.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, Array.isArray(v) ? v.join(", ") : String(v))])))
      : null,
    dataset.downloads && dataset.downloads.length
      ? h("div", { class: "downloads" }, "Download: ",
          dataset.downloads.map((d) => h("a", { href: d.url, download: "" }, d.label)))
      : null,
    h("p", { class: "version" }, `Version ${dataset.dataset_version_id}`),
  );
}
