// Turns a selection predicate into a mask of cells (Uint8Array, 1 = in the set).
//
// Predicates:
//   {type: "lasso", embedding, polygon: [x0, y0, x1, y1, ...]}   normalised embedding coordinates
//   {type: "range", source: {kind: "obs" | "gene", name}, min, max}
//   {type: "categories", column, values: [names], exclude?: true}
//   {type: "all", of: [predicates]}                              cells matching every one
// Masks are over every cell of the dataset; the app folds the view (subset, hidden values) into "all".

export async function evaluate(predicate, data) {
  const n = data.nCells;
  const mask = new Uint8Array(n);
  if (predicate.type === "lasso") {
    const { x, y } = await data.embedding(predicate.embedding);
    fillPolygon(mask, x, y, predicate.polygon);
  } else if (predicate.type === "range") {
    const values = await data.values(predicate.source);
    const { min, max } = predicate;
    for (let i = 0; i < n; i++) mask[i] = values[i] >= min && values[i] <= max ? 1 : 0;
  } else if (predicate.type === "categories") {
    const column = await data.obs(predicate.column);
    const inList = predicate.exclude ? 0 : 1;
    const wanted = new Uint8Array(column.categories.length + 1).fill(1 - inList);
    for (const name of predicate.values) {
      const code = column.categories.indexOf(name);
      if (code >= 0) wanted[code] = inList;
    }
    const codes = column.codes;
    for (let i = 0; i < n; i++) mask[i] = wanted[codes[i]];
  } else if (predicate.type === "all") {
    mask.fill(1);
    for (const part of predicate.of) {
      const partMask = await evaluate(part, data);
      for (let i = 0; i < n; i++) mask[i] &= partMask[i];
    }
  } else {
    throw new Error(`unknown selection type ${predicate.type}`);
  }
  return mask;
}

// Even-odd rule, with a bounding-box test first: most cells of a large dataset fall outside it.
function fillPolygon(mask, x, y, polygon) {
  const count = polygon.length / 2;
  if (count < 3) return;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k < count; k++) {
    x0 = Math.min(x0, polygon[2 * k]);
    x1 = Math.max(x1, polygon[2 * k]);
    y0 = Math.min(y0, polygon[2 * k + 1]);
    y1 = Math.max(y1, polygon[2 * k + 1]);
  }
  for (let i = 0; i < x.length; i++) {
    const px = x[i];
    const py = y[i];
    if (px < x0 || px > x1 || py < y0 || py > y1) continue;
    let inside = false;
    for (let a = 0, b = count - 1; a < count; b = a++) {
      const ax = polygon[2 * a], ay = polygon[2 * a + 1];
      const bx = polygon[2 * b], by = polygon[2 * b + 1];
      if (ay > py !== by > py && px < ((bx - ax) * (py - ay)) / (by - ay) + ax) inside = !inside;
    }
    if (inside) mask[i] = 1;
  }
}

export function countMask(mask) {
  let total = 0;
  for (let i = 0; i < mask.length; i++) total += mask[i];
  return total;
}

export function intersect(a, b) {
  if (!a) return b;
  if (!b) return a;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] & b[i];
  return out;
}

export function maskToIndices(mask) {
  const out = new Uint32Array(countMask(mask));
  let k = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) out[k++] = i;
  return out;
}

// Rounded so that the polygon written into the URL is exactly the one the cells were chosen with.
export function roundPolygon(flat) {
  return flat.map((v) => Math.round(v * 1e4) / 1e4);
}

export function describe(predicate) {
  if (!predicate) return "";
  if (predicate.type === "all") return predicate.of.length ? describe(predicate.of[0]) : "all cells";
  if (predicate.type === "lasso") return `lasso on ${predicate.embedding}`;
  if (predicate.type === "range") {
    return `${predicate.source.name} in [${predicate.min.toPrecision(3)}, ${predicate.max.toPrecision(3)}]`;
  }
  if (predicate.type === "categories") {
    const shown = predicate.values.slice(0, 3).join(", ");
    const more = predicate.values.length > 3 ? ` and ${predicate.values.length - 3} more` : "";
    return `${predicate.column}${predicate.exclude ? " except" : ":"} ${shown}${more}`;
  }
  return predicate.type;
}
