// The view state, and its round trip through the URL so a link reproduces the view.
//
// Selections are stored as predicates, not as lists of cells: a lasso polygon in the embedding's
// normalised coordinates, a value range of a column or gene, or a set of categories. Evaluating the same
// predicate over the same immutable dataset version gives the same cells, and the URL stays short.

export function emptyState() {
  return {
    embedding: null, // obsm key, e.g. "X_umap"
    color: null, // {kind: "obs" | "gene", name}
    hidden: {}, // categorical column -> [hidden category names]
    genes: [], // symbols opened in the gene panel
    selection: null, // predicate (see selection.js)
    set1: null,
    set2: null,
    subset: null, // predicate restricting the view, or null for every cell
    de: null, // null | "sets" | "rest": which comparison's results are shown
    camera: null, // [target x, target y, distance] after a pan or zoom; null: the whole embedding framed
  };
}

const JSON_KEYS = ["selection", "set1", "set2", "subset", "hidden"];

export function stateToQuery(state) {
  const params = new URLSearchParams();
  if (state.embedding) params.set("emb", state.embedding);
  if (state.color) params.set("color", `${state.color.kind}:${state.color.name}`);
  if (state.genes.length) params.set("genes", state.genes.join(","));
  for (const key of JSON_KEYS) {
    const value = state[key];
    const empty = value === null || (key === "hidden" && Object.keys(value).length === 0);
    if (!empty) params.set(key, JSON.stringify(value));
  }
  if (state.de) params.set("de", state.de);
  if (state.camera) params.set("cam", state.camera.map((v) => roundCamera(v)).join(","));
  return params.toString();
}

export function stateFromQuery(query) {
  const params = new URLSearchParams(query);
  const state = emptyState();
  state.embedding = params.get("emb");
  const color = params.get("color");
  if (color && color.includes(":")) {
    const at = color.indexOf(":");
    const kind = color.slice(0, at);
    if (kind === "obs" || kind === "gene") state.color = { kind, name: color.slice(at + 1) };
  }
  const genes = params.get("genes");
  if (genes) state.genes = genes.split(",").filter(Boolean);
  for (const key of JSON_KEYS) {
    const raw = params.get(key);
    if (!raw) continue;
    try {
      state[key] = JSON.parse(raw);
    } catch {
      console.warn(`ignoring unreadable ${key} in the URL`);
    }
  }
  const de = params.get("de");
  if (de === "sets" || de === "rest") state.de = de;
  const camera = (params.get("cam") || "").split(",").map(Number);
  if (camera.length === 3 && camera.every(Number.isFinite) && camera[2] > 0) state.camera = camera;
  return state;
}

// Five significant digits: a link reproduces the view to well under a pixel, and stays short.
export function roundCamera(value) {
  return Number(value.toPrecision(5));
}

// Replaces the address bar's query without a page load (so Back leaves the explorer, not each click).
export function writeUrl(state) {
  const query = stateToQuery(state);
  const url = `${window.location.pathname}${query ? `?${query}` : ""}`;
  window.history.replaceState(null, "", url);
}
