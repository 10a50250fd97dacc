// The explorer page: wires the data, the plot and the panels to one view state, mirrored in the URL.
import { ExplorerApi } from "./api.js";
import { categoryColors, UNASSIGNED_COLOR } from "./colors.js";
import { DataStore } from "./data.js";
import { deTable } from "./de.js";
import { h, formatCount } from "./dom.js";
import { geneSearch } from "./genes.js";
import { histogram } from "./histogram.js";
import { datasetInfo } from "./info.js";
import { categoryCounts, categoryLegend, continuousLegend } from "./legend.js";
import { Plot } from "./plot.js";
import { countMask, describe, evaluate, roundPolygon } from "./selection.js";
import { stateFromQuery, writeUrl } from "./state.js";

class Explorer {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.api = new ExplorerApi(config.api_base);
    this.state = stateFromQuery(window.location.search);
    this.pending = 0;
    this.visibleMask = null; // null: every cell
    this.selectionMask = null;
    // Milliseconds since navigation of the first paint's steps (read by bench/explorer.py).
    this.marks = { script: Math.round(performance.now()) };
    this.frames = []; // when the plot rendered a frame (ms since navigation)
  }

  mark(name) {
    if (!(name in this.marks)) this.marks[name] = Math.round(performance.now());
  }

  // Counts work in flight so tests and the status line know when the view has settled.
  async busy(promise) {
    this.pending++;
    document.body.dataset.busy = "1";
    try {
      return await promise;
    } catch (error) {
      this.showError(error);
      throw error;
    } finally {
      if (--this.pending === 0) document.body.dataset.busy = "0";
    }
  }

  showError(error) {
    console.error(error);
    this.errorLine.textContent = String(error.message || error);
    this.errorLine.hidden = false;
  }

  async start() {
    this.buildLayout();
    // The first embedding is known from the page, so its (large) request starts with the schema's; the
    // gene list is only waited for by gene look-ups and the search box.
    const first = this.state.embedding || this.config.default_embedding;
    const prefetched = first ? { [first]: this.api.embedding(first) } : {};
    const schema = this.busy(this.api.schema());
    const genes = this.api.genes();
    this.busy(genes.then((list) => this.fillGeneSearch(list))).catch(() => {});
    // Setting up WebGL (shaders, buffers) takes a few hundred ms: done while the data is on its way, from
    // the cell count in the page.
    const cells = this.config.dataset?.cell_count;
    if (Number.isInteger(cells)) this.createPlot(cells);
    this.schema = await schema;
    this.mark("schema");
    this.data = new DataStore(this.api, this.schema, genes, prefetched);
    const embeddings = this.schema.embeddings.map((e) => e.name);
    if (!embeddings.includes(this.state.embedding)) this.state.embedding = this.schema.default_embedding;
    this.fillControls();
    if (!this.plot || this.plot.nCells !== this.schema.n_cells) this.createPlot(this.schema.n_cells);
    await this.busy(this.renderAll());
    this.mark("ready");
    document.body.dataset.ready = "1";
  }

  createPlot(nCells) {
    this.plot?.scatterplot.destroy();
    this.plot = new Plot(this.canvas, nCells, {
      onLasso: (flat) => this.onLasso(flat),
      onView: (camera) => this.onView(camera),
    });
    this.plot.scatterplot.subscribe("draw", () => this.frames.push(Math.round(performance.now())));
    this.mark("plot");
  }

  buildLayout() {
    this.errorLine = h("p", { class: "error", hidden: true });
    this.canvas = h("canvas", { class: "plot-canvas" });
    this.statusLine = h("span", { class: "status" }, "Loading…");
    this.embeddingSelect = h("select", { class: "embedding-select", "aria-label": "Embedding" });
    this.colorSelect = h("select", { class: "color-select", "aria-label": "Colour by" });
    this.legendBox = h("div", { class: "legend-box" });
    this.geneBox = h("div", { class: "gene-box" });
    this.continuousBox = h("div", { class: "continuous-box" });
    this.selectionBox = h("div", { class: "selection-box" });
    this.deBox = h("div", { class: "de-box" });
    this.shareInput = h("input", { class: "share-url", readonly: true, "aria-label": "Link to this view" });
    const modeButton = (mode, label, title) =>
      h("button", { class: `mode mode-${mode}`, "data-mode": mode, title, onclick: () => this.setMode(mode) }, label);
    this.toolbar = h(
      "div",
      { class: "toolbar" },
      modeButton("panZoom", "Pan", "Drag to pan, scroll to zoom"),
      modeButton("lasso", "Lasso", "Drag around cells to select them (or shift-drag in pan mode)"),
      h("button", { class: "reset-view", onclick: () => this.resetView(), title: "Fit all cells in view" }, "Reset view"),
      h("label", { class: "size-control" }, "Point size ",
        h("input", { type: "range", min: "0.25", max: "4", step: "0.25", value: "1",
          oninput: (e) => this.plot.setSizeFactor(Number(e.target.value)) })),
      h("button", { class: "copy-link", onclick: () => this.copyLink() }, "Copy link"),
      this.shareInput,
    );
    this.root.replaceChildren(
      h("aside", { class: "panel left" },
        h("label", { class: "field" }, "Embedding", this.embeddingSelect),
        h("label", { class: "field" }, "Colour by", this.colorSelect),
        h("div", { class: "field" }, "Genes", h("div", { class: "gene-search-slot" })),
        this.legendBox,
        this.geneBox,
        h("h2", {}, "Continuous values"),
        this.continuousBox),
      h("main", { class: "plot-area" }, this.toolbar, h("div", { class: "plot-wrap" }, this.canvas),
        h("div", { class: "status-bar" }, this.statusLine, this.errorLine)),
      h("aside", { class: "panel right" }, datasetInfo(this.config.dataset), this.selectionBox, this.deBox),
    );
    this.setModeButtons("panZoom");
  }

  fillControls() {
    this.embeddingSelect.replaceChildren(
      ...this.schema.embeddings.map((e) => h("option", { value: e.name }, e.name.replace(/^X_/, ""))),
    );
    this.embeddingSelect.addEventListener("change", () => {
      this.state.embedding = this.embeddingSelect.value;
      this.busy(this.renderEmbedding().then(() => this.renderSelection()));
    });
    this.colorSelect.replaceChildren(
      h("option", { value: "" }, "— nothing —"),
      ...this.schema.obs.map((c) =>
        h("option", { value: `obs:${c.name}` }, `${c.name}${c.kind === "categorical" ? "" : " (continuous)"}`),
      ),
    );
    this.colorSelect.addEventListener("change", () => {
      const value = this.colorSelect.value;
      if (value.startsWith("gene:")) this.state.color = { kind: "gene", name: value.slice(5) };
      else this.state.color = value ? { kind: "obs", name: value.slice(4) } : null;
      this.busy(this.renderColor());
    });
    this.continuousBox.replaceChildren(
      ...this.schema.obs.filter((c) => c.kind === "continuous").map((c) => {
        const details = h("details", { class: "continuous-column", "data-column": c.name }, h("summary", {}, c.name));
        details.addEventListener("toggle", () => {
          if (details.open) this.busy(this.fillContinuous(details, c.name));
        });
        return details;
      }),
    );
  }

  fillGeneSearch(genes) {
    this.root.querySelector(".gene-search-slot").replaceWith(
      geneSearch({ symbols: genes.symbols, ids: genes.ids, onPick: (symbol) => this.addGene(symbol) }),
    );
  }

  // Every change to the plot after its first frame costs another full frame (over a second for a million
  // cells in software WebGL), so what a link asks for goes first: colours, shown cells, camera and selection
  // only wait for the first positions (plot.js), which are then drawn with all of them in one frame.
  async renderAll() {
    if (this.state.camera) await this.plot.setCamera(this.state.camera);
    await this.renderColor();
    await this.renderVisibility();
    await this.renderSelection();
    await this.renderEmbedding();
    if (!this.state.camera && this.state.subset) await this.plot.frame(this.visibleMask);
    await this.renderGenes();
    await this.renderDe();
  }

  syncUrl() {
    writeUrl(this.state);
  }

  // The cells on screen: the subset, minus the hidden values of categorical columns.
  visiblePredicate() {
    const parts = [];
    if (this.state.subset) parts.push(this.state.subset);
    for (const [column, values] of Object.entries(this.state.hidden)) {
      if (values.length) parts.push({ type: "categories", column, values, exclude: true });
    }
    return parts;
  }

  async renderEmbedding() {
    this.embeddingSelect.value = this.state.embedding;
    const positions = await this.data.embedding(this.state.embedding);
    this.mark("embedding");
    await this.plot.setPositions(positions);
    this.mark("drawn");
    this.plot.indexReady.then(() => this.mark("index"));
    this.syncUrl();
  }

  async renderVisibility() {
    const parts = this.visiblePredicate();
    this.visibleMask = parts.length ? await evaluate({ type: "all", of: parts }, this.data) : null;
    await this.plot.show(this.visibleMask);
    this.updateStatus();
  }

  subsetMaskOrNull() {
    return this.state.subset ? evaluate(this.state.subset, this.data) : Promise.resolve(null);
  }

  async renderColor() {
    const color = this.state.color;
    this.syncColorSelect(color);
    if (!color) {
      this.legendBox.replaceChildren();
      await this.plot.colorUniform();
      this.syncUrl();
      return;
    }
    const column = color.kind === "gene" ? await this.data.gene(color.name) : await this.data.obs(color.name);
    if (column.kind === "categorical") {
      const colors = [...categoryColors(column.categories.length, column.colors), UNASSIGNED_COLOR];
      await this.plot.colorByCategory(column.codes, colors);
      const counts = categoryCounts(column.codes, column.categories.length, await this.subsetMaskOrNull());
      this.legendBox.replaceChildren(
        h("h2", {}, color.name),
        categoryLegend({
          column: color.name,
          categories: column.categories,
          colors,
          counts,
          hidden: this.state.hidden[color.name] || [],
          onToggle: (name) => this.toggleCategory(color.name, name),
          onOnly: (name) => this.onlyCategory(color.name, column.categories, name),
          onShowAll: () => this.setHidden(color.name, []),
          onSelect: () => this.select({ type: "all", of: this.visiblePredicate() }),
        }),
      );
    } else {
      const lo = color.kind === "gene" ? Math.min(0, column.min) : column.min;
      await this.plot.colorByValues(column.values, lo, column.max);
      const label = color.kind === "gene" ? `${color.name} expression` : color.name;
      this.legendBox.replaceChildren(continuousLegend({ label, min: lo, max: column.max }));
    }
    this.syncUrl();
  }

  // The select shows what the cells are coloured by, a gene included (offered while it colours them).
  syncColorSelect(color) {
    this.colorSelect.querySelector("option.gene-option")?.remove();
    if (color && color.kind === "gene") {
      this.colorSelect.append(h("option", { class: "gene-option", value: `gene:${color.name}` }, `${color.name} (gene)`));
    }
    this.colorSelect.value = color ? `${color.kind}:${color.name}` : "";
  }

  toggleCategory(column, name) {
    const hidden = new Set(this.state.hidden[column] || []);
    if (hidden.has(name)) hidden.delete(name);
    else hidden.add(name);
    this.setHidden(column, [...hidden]);
  }

  onlyCategory(column, categories, name) {
    this.setHidden(column, categories.filter((c) => c !== name));
  }

  setHidden(column, values) {
    if (values.length) this.state.hidden[column] = values;
    else delete this.state.hidden[column];
    this.busy(this.renderVisibility().then(() => this.renderColor()).then(() => this.renderSelection()));
  }

  async addGene(symbol) {
    if (!this.state.genes.includes(symbol)) this.state.genes.push(symbol);
    this.state.color = { kind: "gene", name: symbol };
    await this.busy(Promise.all([this.renderGenes(), this.renderColor()]));
  }

  removeGene(symbol) {
    this.state.genes = this.state.genes.filter((g) => g !== symbol);
    if (this.state.color && this.state.color.kind === "gene" && this.state.color.name === symbol) this.state.color = null;
    this.busy(Promise.all([this.renderGenes(), this.renderColor()]));
  }

  async renderGenes() {
    const subset = await this.subsetMaskOrNull();
    const panels = await Promise.all(
      this.state.genes.map(async (symbol) => {
        const gene = await this.data.gene(symbol);
        return histogram({
          title: symbol,
          values: gene.values,
          min: Math.min(0, gene.min),
          max: gene.max,
          mask: subset,
          onBrush: ({ min, max }) => this.select(this.withView({ type: "range", source: { kind: "gene", name: symbol }, min, max })),
          actions: [
            h("button", { class: "color-by", title: `Colour by ${symbol}`, onclick: () => this.colorBy({ kind: "gene", name: symbol }) }, "colour"),
            h("button", { class: "remove", title: "Remove", onclick: () => this.removeGene(symbol) }, "×"),
          ],
        });
      }),
    );
    this.geneBox.replaceChildren(...panels);
    this.syncUrl();
  }

  async fillContinuous(details, name) {
    const column = await this.data.obs(name);
    const subset = await this.subsetMaskOrNull();
    details.querySelector(".histogram")?.remove();
    details.append(
      histogram({
        title: name,
        values: column.values,
        min: column.min,
        max: column.max,
        mask: subset,
        onBrush: ({ min, max }) => this.select(this.withView({ type: "range", source: { kind: "obs", name }, min, max })),
        actions: [h("button", { class: "color-by", onclick: () => this.colorBy({ kind: "obs", name }) }, "colour")],
      }),
    );
  }

  colorBy(color) {
    this.state.color = color;
    this.busy(this.renderColor());
  }

  withView(predicate) {
    const view = this.visiblePredicate();
    return view.length ? { type: "all", of: [predicate, ...view] } : predicate;
  }

  // The camera rests after a pan or zoom: the link keeps it (null when back at the framing of all cells).
  onView(camera) {
    if (!this.plot) return;
    const framed = camera[0] === 0 && camera[1] === 0 && camera[2] === 1 && !this.state.subset;
    this.state.camera = framed ? null : camera;
    this.syncUrl();
  }

  onLasso(flat) {
    if (flat.length < 6) return;
    this.select(this.withView({ type: "lasso", embedding: this.state.embedding, polygon: roundPolygon(flat) }));
  }

  select(predicate) {
    this.state.selection = predicate;
    this.busy(this.renderSelection());
  }

  async renderSelection() {
    this.selectionMask = this.state.selection ? await evaluate(this.state.selection, this.data) : null;
    this.plot.highlight(this.selectionMask);
    const selected = this.selectionMask ? countMask(this.selectionMask) : 0;
    const setLine = async (key, label) => {
      const predicate = this.state[key];
      if (!predicate) return h("li", { class: `set ${key}` }, `${label}: not saved`);
      const n = countMask(await evaluate(predicate, this.data));
      return h("li", { class: `set ${key}`, "data-count": n }, `${label}: ${formatCount(n)} cells (${describe(predicate)}) `,
        h("button", { onclick: () => this.saveSet(key, null) }, "clear"));
    };
    const hasSelection = selected > 0;
    this.selectionBox.replaceChildren(
      h("h2", {}, "Selection"),
      h("p", { class: "selected-count", "data-count": selected },
        hasSelection ? `${formatCount(selected)} cells selected (${describe(this.state.selection)})` : "No cells selected. Use the lasso or brush a histogram."),
      h("div", { class: "buttons" },
        h("button", { class: "save-set1", disabled: !hasSelection, onclick: () => this.saveSet("set1", this.state.selection) }, "Save as set 1"),
        h("button", { class: "save-set2", disabled: !hasSelection, onclick: () => this.saveSet("set2", this.state.selection) }, "Save as set 2"),
        h("button", { class: "clear-selection", disabled: !this.state.selection, onclick: () => this.select(null) }, "Clear")),
      h("div", { class: "buttons" },
        h("button", { class: "subset", disabled: !hasSelection, onclick: () => this.setSubset(this.state.selection) }, "Subset to selection"),
        h("button", { class: "unsubset", disabled: !this.state.subset, onclick: () => this.setSubset(null) }, "Show all cells")),
      h("ul", { class: "sets" }, await setLine("set1", "Set 1"), await setLine("set2", "Set 2")),
      h("div", { class: "buttons" },
        h("button", { class: "run-de", disabled: !(this.state.set1 && this.state.set2), onclick: () => this.runDe("sets") }, "Compare set 1 vs set 2"),
        h("button", { class: "run-de-rest", disabled: !this.state.set1, onclick: () => this.runDe("rest") }, "Set 1 vs rest")),
    );
    this.updateStatus(selected);
    this.syncUrl();
  }

  saveSet(key, predicate) {
    this.state[key] = predicate;
    this.busy(this.renderSelection());
  }

  setSubset(predicate) {
    this.state.subset = predicate;
    this.state.selection = null;
    this.busy(
      this.renderVisibility()
        .then(() => this.plot.frame(this.visibleMask))
        .then(() => this.renderColor())
        .then(() => this.renderGenes())
        .then(() => this.renderSelection())
        .then(() => this.refreshOpenContinuous()),
    );
  }

  refreshOpenContinuous() {
    return Promise.all(
      [...this.continuousBox.querySelectorAll("details[open]")].map((d) => this.fillContinuous(d, d.dataset.column)),
    );
  }

  runDe(mode) {
    this.state.de = mode;
    this.busy(this.renderDe());
  }

  async renderDe() {
    const mode = this.state.de;
    if (!mode || !this.state.set1 || (mode === "sets" && !this.state.set2)) {
      this.deBox.replaceChildren();
      return;
    }
    this.deBox.replaceChildren(h("h2", {}, "Differential expression"), h("p", {}, "Computing…"));
    const set1 = await evaluate(this.state.set1, this.data);
    const set2 = mode === "sets" ? await evaluate(this.state.set2, this.data) : null;
    const result = await this.api.diffexp(set1, set2);
    this.deBox.replaceChildren(
      h("h2", {}, "Differential expression"),
      deTable({ result, onGene: (symbol) => this.addGene(symbol) }),
    );
    this.syncUrl();
  }

  resetView() {
    this.plot.resetView();
    this.state.camera = null;
    this.syncUrl();
  }

  setMode(mode) {
    this.plot.setMode(mode);
    this.setModeButtons(mode);
  }

  setModeButtons(mode) {
    for (const button of this.toolbar.querySelectorAll("button.mode")) {
      button.classList.toggle("active", button.dataset.mode === mode);
    }
  }

  copyLink() {
    this.syncUrl();
    const url = window.location.href;
    this.shareInput.value = url;
    this.shareInput.select();
    navigator.clipboard?.writeText(url).catch(() => {});
  }

  updateStatus(selected = this.selectionMask ? countMask(this.selectionMask) : 0) {
    const total = this.schema.n_cells;
    const shown = this.visibleMask ? countMask(this.visibleMask) : total;
    const parts = [`${formatCount(shown)} of ${formatCount(total)} cells shown`];
    if (selected) parts.push(`${formatCount(selected)} selected`);
    this.statusLine.textContent = parts.join(" · ");
  }
}

const config = JSON.parse(document.getElementById("explorer-config").textContent);
const explorer = new Explorer(document.getElementById("explorer"), config);
window.cellportalExplorer = explorer;
explorer.start().catch((error) => explorer.showError(error));
