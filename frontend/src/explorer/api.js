// The explorer's data API client. Paths are versioned and a dataset version never changes, so the
// browser's HTTP cache does the caching (the server sends immutable cache headers and ETags).
import { unpackFrame, maskToBitset } from "./binary.js";

export class ExplorerApi {
  constructor(base) {
    this.base = base.replace(/\/$/, "");
  }

  async json(path) {
    const response = await fetch(`${this.base}/${path}`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  async frame(path) {
    const response = await fetch(`${this.base}/${path}`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return unpackFrame(await response.arrayBuffer());
  }

  schema() {
    return this.json("schema");
  }

  genes() {
    return this.json("genes");
  }

  embedding(name) {
    return this.frame(`embedding/${encodeURIComponent(name)}`);
  }

  obs(column) {
    return this.frame(`obs/${encodeURIComponent(column)}`);
  }

  gene(index) {
    return this.frame(`gene/${index}`);
  }

  // set2 null means "the rest": every cell not in set 1.
  async diffexp(set1, set2, { top = 50 } = {}) {
    const bits1 = maskToBitset(set1);
    const bits2 = set2 ? maskToBitset(set2) : new Uint8Array(0);
    const body = new Uint8Array(8 + bits1.length + bits2.length);
    const view = new DataView(body.buffer);
    view.setUint32(0, bits1.length, true);
    view.setUint32(4, bits2.length, true);
    body.set(bits1, 8);
    body.set(bits2, 8 + bits1.length);
    const mode = set2 ? "sets" : "rest";
    const response = await fetch(`${this.base}/diffexp?mode=${mode}&top=${top}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/octet-stream" },
      body,
    });
    if (!response.ok) {
      const detail = await response.text();
      throw new Error(`differential expression failed: HTTP ${response.status} ${detail}`);
    }
    return response.json();
  }
}
