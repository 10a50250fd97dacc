// Loads and keeps the arrays the view needs: embeddings (normalised for drawing), obs columns, genes.
// Genes are few but large (4 bytes per cell), so only the most recent ones stay in memory.

const GENES_KEPT = 8;

export class DataStore {
  // `prefetched`: {obsm key: promise of its frame}, requested before the schema arrived.
  constructor(api, schema, genes, prefetched = {}) {
    this.api = api;
    this.schema = schema;
    this.nCells = schema.n_cells;
    this.geneSymbols = genes.symbols;
    this.geneIds = genes.ids;
    this.geneIndex = new Map();
    genes.symbols.forEach((s, i) => this.geneIndex.set(s.toUpperCase(), i));
    genes.ids.forEach((s, i) => this.geneIndex.set(s.toUpperCase(), i));
    this.embeddings = new Map();
    for (const [name, frame] of Object.entries(prefetched)) {
      const positions = frame.then(({ arrays }) => normalise(arrays.x, arrays.y));
      positions.catch(() => {}); // a name from the URL may not exist; the schema decides
      this.embeddings.set(name, positions);
    }
    this.obsColumns = new Map();
    this.geneValues = new Map(); // insertion order = recency
  }

  obsSchema(name) {
    return this.schema.obs.find((c) => c.name === name);
  }

  findGene(name) {
    const index = this.geneIndex.get(String(name).toUpperCase());
    return index === undefined ? null : index;
  }

  embedding(name) {
    if (!this.embeddings.has(name)) {
      this.embeddings.set(name, this.api.embedding(name).then(({ arrays }) => normalise(arrays.x, arrays.y)));
    }
    return this.embeddings.get(name);
  }

  obs(name) {
    if (!this.obsColumns.has(name)) {
      const spec = this.obsSchema(name);
      if (!spec) return Promise.reject(new Error(`no obs column ${name}`));
      this.obsColumns.set(
        name,
        this.api.obs(name).then(({ arrays }) =>
          spec.kind === "categorical"
            ? { kind: "categorical", codes: arrays.codes, categories: spec.categories, colors: spec.colors }
            : { kind: "continuous", values: arrays.values, min: spec.min, max: spec.max },
        ),
      );
    }
    return this.obsColumns.get(name);
  }

  async gene(name) {
    const index = this.findGene(name);
    if (index === null) throw new Error(`no gene ${name} in this dataset`);
    const key = this.geneSymbols[index];
    if (this.geneValues.has(key)) {
      const hit = this.geneValues.get(key);
      this.geneValues.delete(key);
      this.geneValues.set(key, hit);
      return hit;
    }
    const promise = this.api.gene(index).then(({ meta, arrays }) => {
      const values = new Float32Array(this.nCells);
      const { indices, values: nonzero } = arrays;
      for (let k = 0; k < indices.length; k++) values[indices[k]] = nonzero[k];
      return { kind: "continuous", values, min: meta.min, max: meta.max, symbol: key, id: this.geneIds[index] };
    });
    this.geneValues.set(key, promise);
    while (this.geneValues.size > GENES_KEPT) this.geneValues.delete(this.geneValues.keys().next().value);
    return promise;
  }

  // Values of a continuous source: {kind: "obs" | "gene", name}.
  async values(source) {
    const column = source.kind === "gene" ? await this.gene(source.name) : await this.obs(source.name);
    if (column.kind !== "continuous") throw new Error(`${source.name} is not continuous`);
    return column.values;
  }
}

// Isotropic scaling that puts the central 99.8 % of cells into [-0.85, 0.85]: a handful of far outliers would
// otherwise shrink everything else into a corner. The range comes from an evenly strided sample, so the same
// arrays always give the same result, which is what makes lasso polygons stored in URLs select the same
// cells again.
function normalise(rawX, rawY) {
  const [x0, x1] = centralRange(rawX);
  const [y0, y1] = centralRange(rawY);
  const span = Math.max(x1 - x0, y1 - y0) || 1;
  const scale = 1.7 / span;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const x = new Float32Array(rawX.length);
  const y = new Float32Array(rawY.length);
  for (let i = 0; i < rawX.length; i++) {
    // Cells without coordinates (NaN) are parked outside the view rather than dropped, to keep indices.
    x[i] = Number.isFinite(rawX[i]) ? (rawX[i] - cx) * scale : 10;
    y[i] = Number.isFinite(rawY[i]) ? (rawY[i] - cy) * scale : 10;
  }
  return { x, y };
}

const RANGE_SAMPLE = 200_000;

function centralRange(values) {
  const stride = Math.max(1, Math.floor(values.length / RANGE_SAMPLE));
  const sample = [];
  for (let i = 0; i < values.length; i += stride) if (Number.isFinite(values[i])) sample.push(values[i]);
  if (!sample.length) return [0, 1];
  const sorted = Float64Array.from(sample).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
  return [at(0.001), at(0.999)];
}
