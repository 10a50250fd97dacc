// The embedding scatterplot, drawn by regl-scatterplot (WebGL): pan and zoom with the mouse, lasso with
// shift-drag or in lasso mode. Colours come in as per-cell category codes (z) or values in [0, 1] (w).
import createScatterplot from "regl-scatterplot";
import { BACKGROUND, continuousRamp } from "./colors.js";
import { buildIndexOffThread, fillIndex, placeholderIndex } from "./spatial-index.js";

// Fewer, larger, opaque points for small datasets; many small translucent ones for large ones, so that
// dense regions of a million cells still show their structure.
export function pointStyle(nCells) {
  const decades = Math.log10(Math.max(nCells, 10));
  const size = Math.min(6, Math.max(1, 2 + (4 * (6 - decades)) / 3));
  const opacity = Math.min(1, Math.max(0.3, 1 - 0.2 * (decades - 3)));
  return { size, opacity };
}

export class Plot {
  constructor(canvas, nCells, { onLasso, onView }) {
    this.nCells = nCells;
    this.style = pointStyle(nCells);
    this.sizeFactor = 1;
    this.ramp = continuousRamp();
    this.scatterplot = createScatterplot({
      canvas,
      width: "auto",
      height: "auto",
      backgroundColor: BACKGROUND,
      pointSize: this.style.size * window.devicePixelRatio,
      opacity: this.style.opacity,
      pointColor: "#4a6fa5",
      pointColorActive: "#e6007e",
      pointSizeSelected: 1,
      pointOutlineWidth: 1,
      // With a selection, the other cells fade so the selected ones stand out.
      opacityInactiveScale: 0.35,
      lassoColor: "#e6007e",
      lassoMinDelay: 8,
      lassoMinDist: 2,
      deselectOnDblClick: false,
      deselectOnEscape: false,
      performanceMode: nCells > 1_500_000,
      // The spatial index is always passed in (spatial-index.js): the library's own is built from a million
      // [x, y] arrays before the first frame, on this thread or by posting them to a worker (seconds).
      spatialIndexUseWorker: false,
    });
    this.scatterplot.subscribe("lassoEnd", ({ coordinates }) => onLasso(coordinates.flat()));
    // Pans and zooms, reported once the camera rests (the event fires on every animation frame).
    let resting = null;
    this.scatterplot.subscribe("view", () => {
      clearTimeout(resting);
      resting = setTimeout(() => onView(this.camera()), 150);
    });
    this.x = null;
    this.y = null;
    this.z = new Float32Array(nCells);
    this.w = new Float32Array(nCells);
    // [x, y, z, w] per cell, the form the library converts typed arrays into on every draw(): built once per
    // embedding in a plain loop, recoloured in place (the library keeps this array, so it costs no memory).
    this.points = null;
    this.spatialIndex = undefined;
    this.indexReady = Promise.resolve();
    this.uniform = true; // coloured by nothing: the constructor's pointColor
    this.filtered = false;
    // What a link asks for before the first positions (shown cells, selection): drawn with them, in one frame.
    this.pending = {};
  }

  // Draws new positions at once; hover and the library's lasso hits follow when the worker's index is in.
  async setPositions({ x, y }) {
    this.x = x;
    this.y = y;
    const { z, w } = this;
    const points = new Array(x.length);
    for (let i = 0; i < x.length; i++) points[i] = [x[i], y[i], z[i], w[i]];
    this.points = points;
    const placeholder = placeholderIndex(x.length);
    this.spatialIndex = placeholder;
    const built = buildIndexOffThread(x, y);
    const pending = this.pending;
    this.pending = {};
    await this.redraw(pending);
    if (pending.filter) this.filtered = true;
    this.indexReady = built.then(async (index) => {
      if (this.spatialIndex !== placeholder) return; // other positions were drawn meanwhile
      if (this.scatterplot.get("spatialIndex") === placeholder) fillIndex(placeholder, index);
      else {
        // A library that copies the index it is given: hand it the real one with a redraw.
        this.spatialIndex = index;
        await this.redraw();
      }
    });
    this.indexReady.catch((error) => console.error("spatial index:", error)); // hover stays off
  }

  async redraw(extra = {}) {
    await this.scatterplot.draw(this.points, {
      zDataType: "categorical",
      wDataType: "continuous",
      spatialIndex: this.spatialIndex,
      preventFilterReset: true,
      ...extra,
    });
  }

  // Every set() and draw() costs a full frame (over a second for a million cells in software WebGL), so
  // nothing is set that is already so, and before the first positions the colours only wait for them.
  async colorUniform() {
    if (this.uniform) return;
    this.uniform = true;
    await this.scatterplot.set({ colorBy: null, pointColor: "#4a6fa5" });
  }

  async colorByCategory(codes, colors) {
    for (let i = 0; i < codes.length; i++) this.z[i] = codes[i];
    if (this.points) for (let i = 0; i < codes.length; i++) this.points[i][2] = codes[i];
    this.uniform = false;
    await this.scatterplot.set({ colorBy: "valueA", pointColor: colors });
    if (this.points) await this.redraw();
  }

  // Values scaled into [0, 1] between lo and hi; missing values take the bottom of the ramp.
  async colorByValues(values, lo, hi) {
    const span = hi > lo ? hi - lo : 1;
    for (let i = 0; i < values.length; i++) {
      const v = (values[i] - lo) / span;
      this.w[i] = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
    }
    if (this.points) for (let i = 0; i < values.length; i++) this.points[i][3] = this.w[i];
    this.uniform = false;
    await this.scatterplot.set({ colorBy: "valueB", pointColor: this.ramp });
    if (this.points) await this.redraw();
  }

  // Shows only the cells whose mask is 1 (null shows all). Unfiltering rebuilds the point index (seconds
  // at a million cells), so it is skipped when nothing is filtered.
  async show(mask) {
    if (!this.points) {
      if (mask) this.pending.filter = indicesOf(mask);
      else delete this.pending.filter;
      return;
    }
    if (!mask) {
      if (this.filtered) await this.scatterplot.unfilter({ preventEvent: true });
      this.filtered = false;
      return;
    }
    await this.scatterplot.filter(indicesOf(mask), { preventEvent: true });
    this.filtered = true;
  }

  highlight(mask) {
    if (!this.points) {
      if (mask) this.pending.select = indicesOf(mask);
      else delete this.pending.select;
      return;
    }
    if (!mask) {
      this.scatterplot.deselect({ preventEvent: true });
      return;
    }
    this.scatterplot.select(indicesOf(mask), { preventEvent: true });
  }

  setMode(mode) {
    this.scatterplot.set({ mouseMode: mode });
  }

  setSizeFactor(factor) {
    this.sizeFactor = factor;
    this.scatterplot.set({ pointSize: this.style.size * factor * window.devicePixelRatio });
  }

  // Frames the cells of `mask` (all cells when null), as a subset is meant to be looked at.
  async frame(mask) {
    if (!mask) {
      this.scatterplot.reset();
      return;
    }
    const points = [];
    for (let i = 0; i < mask.length; i++) if (mask[i]) points.push(i);
    if (points.length) await this.scatterplot.zoomToPoints(points, { padding: 0.15, transition: false });
  }

  resetView() {
    this.scatterplot.reset();
  }

  // [target x, target y, distance] of the 2-D camera, in the normalised coordinates the points are drawn in.
  camera() {
    const [x, y] = this.scatterplot.get("cameraTarget");
    return [x, y, this.scatterplot.get("cameraDistance")];
  }

  setCamera([x, y, distance]) {
    return this.scatterplot.set({ cameraTarget: [x, y], cameraDistance: distance });
  }
}

function indicesOf(mask) {
  const indices = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) indices.push(i);
  return indices;
}
