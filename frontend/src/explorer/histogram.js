// A histogram of a continuous column or gene, drawn on a canvas; drag across it to select a value range.
import { h } from "./dom.js";

const BINS = 40;
const WIDTH = 260;
const HEIGHT = 64;

export function histogram({ title, values, min, max, mask, range, onBrush, actions = [] }) {
  const lo = Number.isFinite(min) ? min : 0;
  const hi = Number.isFinite(max) && max > lo ? max : lo + 1;
  const counts = new Float64Array(BINS);
  for (let i = 0; i < values.length; i++) {
    if (mask && !mask[i]) continue;
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[Math.min(BINS - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * BINS)))]++;
  }
  const canvas = h("canvas", { width: WIDTH, height: HEIGHT, class: "histogram-canvas" });
  const draw = (brush) => {
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, WIDTH, HEIGHT);
    // Square-root heights: the zero bin of a sparse gene would otherwise flatten everything else.
    const top = Math.sqrt(Math.max(...counts)) || 1;
    const barWidth = WIDTH / BINS;
    for (let b = 0; b < BINS; b++) {
      const binLo = lo + ((hi - lo) * b) / BINS;
      const inBrush = brush && binLo + (hi - lo) / BINS > brush.min && binLo <= brush.max;
      ctx.fillStyle = inBrush ? "#e6007e" : "#7a8ca5";
      const height = (Math.sqrt(counts[b]) / top) * (HEIGHT - 2);
      ctx.fillRect(b * barWidth + 0.5, HEIGHT - height, barWidth - 1, height);
    }
  };
  draw(range);
  const toValue = (event) => {
    const rect = canvas.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    return lo + f * (hi - lo);
  };
  let start = null;
  canvas.addEventListener("pointerdown", (event) => {
    start = toValue(event);
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (start === null) return;
    const v = toValue(event);
    draw({ min: Math.min(start, v), max: Math.max(start, v) });
  });
  canvas.addEventListener("pointerup", (event) => {
    if (start === null) return;
    const v = toValue(event);
    const brush = { min: Math.min(start, v), max: Math.max(start, v) };
    start = null;
    if (brush.max - brush.min < (hi - lo) / 500) return; // a click, not a drag
    onBrush(brush);
  });
  const fmt = (v) => Number(v).toPrecision(3);
  return h(
    "div",
    { class: "histogram", "data-title": title },
    h("div", { class: "histogram-head" }, h("span", { class: "histogram-title" }, title), ...actions),
    canvas,
    h("div", { class: "histogram-axis" }, h("span", {}, fmt(lo)), h("span", {}, fmt(hi))),
  );
}
