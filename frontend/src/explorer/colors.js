// Colour tables: a categorical palette (or the dataset's own `uns['<col>_colors']`) and a continuous ramp.

// Distinct hues for categories, in an order where neighbours differ; extended by golden-angle hues past it.
const CATEGORY_PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
  "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d",
  "#9edae5", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
];

export const UNASSIGNED_COLOR = "#d0d0d0";
export const BACKGROUND = "#ffffff";

function hslToHex(h, s, l) {
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  const hex = (x) => Math.round(x * 255).toString(16).padStart(2, "0");
  return `#${hex(f(0))}${hex(f(8))}${hex(f(4))}`;
}

export function categoryColors(count, datasetColors) {
  const valid = Array.isArray(datasetColors) && datasetColors.length >= count;
  const colors = [];
  for (let i = 0; i < count; i++) {
    if (valid) colors.push(normalizeHex(datasetColors[i]));
    else if (i < CATEGORY_PALETTE.length) colors.push(CATEGORY_PALETTE[i]);
    else colors.push(hslToHex((i * 137.508) % 360, 0.55, 0.5));
  }
  return colors;
}

// AnnData colours may carry an alpha channel (#rrggbbaa) or be short (#rgb); the plot wants #rrggbb.
function normalizeHex(color) {
  if (typeof color !== "string" || !color.startsWith("#")) return UNASSIGNED_COLOR;
  if (color.length === 4) return `#${color[1]}${color[1]}${color[2]}${color[2]}${color[3]}${color[3]}`;
  return color.slice(0, 7);
}

// Viridis, sampled at nine stops and interpolated: perceptually even, readable by colour-blind readers.
const VIRIDIS_STOPS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

export function continuousRamp(steps = 256) {
  const ramp = [];
  for (let i = 0; i < steps; i++) {
    const t = (i / (steps - 1)) * (VIRIDIS_STOPS.length - 1);
    const lo = Math.floor(t);
    const hi = Math.min(lo + 1, VIRIDIS_STOPS.length - 1);
    const f = t - lo;
    const rgb = VIRIDIS_STOPS[lo].map((c, k) => Math.round(c + (VIRIDIS_STOPS[hi][k] - c) * f));
    ramp.push(`#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`);
  }
  return ramp;
}

export function rampCss(ramp) {
  const stops = ramp.filter((_, i) => i % 32 === 0 || i === ramp.length - 1);
  return `linear-gradient(to right, ${stops.join(", ")})`;
}
