// Loads and keeps the arrays the view needs: embeddings (normalised for drawing), obs columns, genes.
// Genes are few but large (4 bytes per cell), so only the most recent ones stay in memory.

const GENES_KEPT = 8;

export class DataStore {
  // `prefetched`: {obsm key: promise of its frame}, requested before the schema arrived. `genes`: a promise
  // of the gene list, which only gene look-ups wait for (it can be large, and the first frame needs none).
  constructor(api, schema, genes, prefetched = {}) {
    this.api = api;
    this.schema = schema;
    this.nCells = schema.n_cells;
    this.genes = Promise.resolve(genes).then(({ symbols, ids }) => {
      this.geneSymbols = symbols;
      this.geneIds = ids;
      this.geneIndex = new Map();
      symbols.forEach((s, i) => this.geneIndex.set(s.toUpperCase(), i));
      ids.forEach((s, i) => this.geneIndex.set(s.toUpperCase(), i));
    });
    this.genes.catch(() => {}); // reported by the search box's loading and by gene()
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
    await this.genes;
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

export function centralRange(values) {
  const stride = Math.max(1, Math.floor(values.length / RANGE_SAMPLE));
  const sample = new Float64Array(Math.ceil(values.length / stride));
  let count = 0;
  for (let i = 0; i < values.length; i += stride) if (Number.isFinite(values[i])) sample[count++] = values[i];
  if (!count) return [0, 1];
  // The two quantiles are order statistics of the sample: selected in place, as a sort would place them.
  const lo = Math.floor(0.001 * (count - 1));
  const hi = Math.floor(0.999 * (count - 1));
  select(sample, lo, 0, count - 1);
  if (hi > lo) select(sample, hi, lo + 1, count - 1);
  return [sample[lo], sample[hi]];
}

// Floyd-Rivest selection: afterwards a[k] is the value a sort would put there, no greater values before it in
// [left, right] and no smaller ones after.
function select(a, k, left, right) {
  while (right > left) {
    if (right - left > 600) {
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      select(a, k, Math.max(left, Math.floor(k - (m * s) / n + sd)), Math.min(right, Math.floor(k + ((n - m) * s) / n + sd)));
    }
    const t = a[k];
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right] > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i] < t) i++;
      while (a[j] > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

function swap(a, i, j) {
  const tmp = a[i];
  a[i] = a[j];
  a[j] = tmp;
}
