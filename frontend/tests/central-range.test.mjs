// A continuous colour scale spans the 0.1 % to 99.9 % quantiles of a sample of the values: selected, not
// sorted, so the result must be what sorting the sample would give.
import assert from "node:assert/strict";
import { test } from "node:test";
import { centralRange } from "../src/explorer/data.js";

function bySort(values) {
  const stride = Math.max(1, Math.floor(values.length / 200_000));
  const sample = [];
  for (let i = 0; i < values.length; i += stride) if (Number.isFinite(values[i])) sample.push(values[i]);
  if (!sample.length) return [0, 1];
  const sorted = Float64Array.from(sample).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
  return [at(0.001), at(0.999)];
}

test("quantiles equal the sorted sample's, ties, NaN and signed zeros included (-0 counts as 0)", () => {
  let state = 7;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const n of [1, 2, 10, 1_001, 50_000, 450_000]) {
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const r = random();
      values[i] = r < 0.3 ? 0 : r < 0.32 ? -0 : r < 0.34 ? Number.NaN : Math.fround(Math.log1p(r * 100) - 2);
    }
    const plain = (range) => range.map((v) => v + 0); // -0 and 0 are the same colour
    assert.deepEqual(plain(centralRange(values)), plain(bySort(values)), `${n} values`);
  }
});

test("no finite value gives the unit range", () => {
  assert.deepEqual(centralRange(new Float32Array([Number.NaN, Number.NaN])), [0, 1]);
});
