// The explorer builds the scatterplot's spatial index itself (in a worker) and hands it to regl-scatterplot:
// its range queries must answer exactly as the library's own KDBush index would, placeholder included.
import assert from "node:assert/strict";
import { test } from "node:test";
import createKDBushClass from "regl-scatterplot/src/kdbush-class.js";
import { buildIndex, fillIndex, placeholderIndex } from "../src/explorer/spatial-index.js";

const KDBush = createKDBushClass();

function points(n, seed) {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = Math.fround(random() * 2 - 1);
    y[i] = Math.fround(random() * 2 - 1);
    if (i % 7 === 0) x[i] = 0.25; // many equal coordinates, as embeddings have
  }
  return { x, y };
}

for (const n of [0, 1, 5, 100, 70_000]) {
  test(`the index of ${n} points answers as the library's own`, () => {
    const { x, y } = points(n, n + 1);
    const library = new KDBush(n);
    for (let i = 0; i < n; i++) library.add(x[i], y[i]);
    library.finish();

    const placeholder = placeholderIndex(n);
    const viewed = KDBush.from(placeholder);
    if (n) assert.equal(viewed.range(-2, -2, 2, 2).length, 0, "the placeholder finds nothing");
    const built = buildIndex(x, y);
    fillIndex(placeholder, built);
    assert.equal(placeholder.byteLength, built.byteLength);

    const byIndex = (a, b) => a - b;
    for (let q = 0; q < 200; q++) {
      const a = ((q * 37) % 200) / 100 - 1;
      const b = ((q * 53) % 200) / 100 - 1;
      const side = q % 2 ? 0.01 : 0.5;
      const want = library.range(a, b, a + side, b + side).sort(byIndex);
      const got = viewed.range(a, b, a + side, b + side).sort(byIndex);
      assert.deepEqual(got, want, `query ${q}`);
    }
    assert.equal(viewed.range(-2, -2, 2, 2).length, n);
  });
}
