// The plot's spatial index (hover and the library's own lasso hit-testing), built off the main thread.
//
// regl-scatterplot takes a ready index as the ArrayBuffer of a KDBush (v4 layout: 8-byte header, ids,
// padding, then x/y pairs) and wraps it with KDBush.from, which views the buffer without copying it. Building
// one for a million cells costs ~0.4 s (a kd-sort) and the library waits for it before its first frame. So
// the first frame is drawn with a placeholder of the right size whose coordinates are all NaN (every range
// query on it answers nothing: hover and the library's lasso hits are off for that moment; our own lasso and
// selections never use it), while a worker sorts a copy of the positions; the result is then copied into the
// placeholder's bytes, so the library's index becomes the real one without another draw.

const NODE_SIZE = 64; // KDBush's default, what the library builds with
const FLOAT32 = 7; // KDBush's code for Float32Array coordinates (x and y are float32 already)

function layout(n) {
  const idBytes = n < 65536 ? 2 : 4;
  const idsLength = n * idBytes;
  const coordsOffset = 8 + idsLength + ((8 - (idsLength % 8)) % 8);
  return { idBytes, coordsOffset, byteLength: coordsOffset + n * 2 * 4 };
}

function header(buffer, n) {
  new Uint8Array(buffer, 0, 2).set([0xdb, (1 << 4) + FLOAT32]);
  new Uint16Array(buffer, 2, 1)[0] = NODE_SIZE;
  new Uint32Array(buffer, 4, 1)[0] = n;
}

// An index of n cells that finds nothing, to be filled in place by fillIndex.
export function placeholderIndex(n) {
  const { coordsOffset, byteLength } = layout(n);
  const buffer = new ArrayBuffer(byteLength);
  header(buffer, n);
  new Float32Array(buffer, coordsOffset, n * 2).fill(NaN);
  return buffer;
}

export function fillIndex(placeholder, built) {
  new Uint8Array(placeholder).set(new Uint8Array(built));
}

// The KDBush buffer of the points (x[i], y[i]): the kd-sort of KDBush 4.0.2 (ISC, Vladimir Agafonkin).
// Self-contained on purpose (no names from outside its body): the worker runs its source text.
export function buildIndex(x, y) {
  const n = x.length;
  const nodeSize = 64;
  const idBytes = n < 65536 ? 2 : 4;
  const idsLength = n * idBytes;
  const coordsOffset = 8 + idsLength + ((8 - (idsLength % 8)) % 8);
  const buffer = new ArrayBuffer(coordsOffset + n * 2 * 4);
  new Uint8Array(buffer, 0, 2).set([0xdb, (1 << 4) + 7]);
  new Uint16Array(buffer, 2, 1)[0] = nodeSize;
  new Uint32Array(buffer, 4, 1)[0] = n;
  const ids = idBytes === 2 ? new Uint16Array(buffer, 8, n) : new Uint32Array(buffer, 8, n);
  const coords = new Float32Array(buffer, coordsOffset, n * 2);
  for (let i = 0; i < n; i++) {
    ids[i] = i;
    coords[2 * i] = x[i];
    coords[2 * i + 1] = y[i];
  }

  function swapItem(i, j) {
    let tmp = ids[i];
    ids[i] = ids[j];
    ids[j] = tmp;
    tmp = coords[2 * i];
    coords[2 * i] = coords[2 * j];
    coords[2 * j] = tmp;
    tmp = coords[2 * i + 1];
    coords[2 * i + 1] = coords[2 * j + 1];
    coords[2 * j + 1] = tmp;
  }

  // Floyd-Rivest selection: [left..k-1] end up no greater than the k-th item on the axis, the rest no smaller.
  function select(k, left, right, axis) {
    while (right > left) {
      if (right - left > 600) {
        const count = right - left + 1;
        const m = k - left + 1;
        const z = Math.log(count);
        const s = 0.5 * Math.exp((2 * z) / 3);
        const sd = 0.5 * Math.sqrt((z * s * (count - s)) / count) * (m - count / 2 < 0 ? -1 : 1);
        const newLeft = Math.max(left, Math.floor(k - (m * s) / count + sd));
        const newRight = Math.min(right, Math.floor(k + ((count - m) * s) / count + sd));
        select(k, newLeft, newRight, axis);
      }
      const t = coords[2 * k + axis];
      let i = left;
      let j = right;
      swapItem(left, k);
      if (coords[2 * right + axis] > t) swapItem(left, right);
      while (i < j) {
        swapItem(i, j);
        i++;
        j--;
        while (coords[2 * i + axis] < t) i++;
        while (coords[2 * j + axis] > t) j--;
      }
      if (coords[2 * left + axis] === t) swapItem(left, j);
      else {
        j++;
        swapItem(j, right);
      }
      if (j <= k) left = j + 1;
      if (k <= j) right = j - 1;
    }
  }

  function sort(left, right, axis) {
    if (right - left <= nodeSize) return;
    const m = (left + right) >> 1;
    select(m, left, right, axis);
    sort(left, m - 1, 1 - axis);
    sort(m + 1, right, 1 - axis);
  }

  sort(0, n - 1, 0);
  return buffer;
}

let worker = null;
let jobs = 0;
const waiting = new Map();

function indexWorker() {
  if (worker === null) {
    const source = `const buildIndex = ${buildIndex};
self.onmessage = ({ data }) => {
  const buffer = buildIndex(new Float32Array(data.x), new Float32Array(data.y));
  self.postMessage({ job: data.job, buffer }, [buffer]);
};`;
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    worker = new Worker(url, { name: "spatial index" });
    URL.revokeObjectURL(url);
    worker.onmessage = ({ data }) => {
      waiting.get(data.job)?.resolve(data.buffer);
      waiting.delete(data.job);
    };
    worker.onerror = (event) => {
      for (const job of waiting.values()) job.reject(new Error(event.message || "spatial index worker failed"));
      waiting.clear();
    };
  }
  return worker;
}

// The index of normalised positions, built in a worker from copies (the caller keeps x and y); on the main
// thread, after the current task, where workers are unavailable.
export function buildIndexOffThread(x, y) {
  let target;
  try {
    target = indexWorker();
  } catch {
    return new Promise((resolve) => setTimeout(() => resolve(buildIndex(x, y)), 0));
  }
  const job = ++jobs;
  const copyX = x.slice();
  const copyY = y.slice();
  return new Promise((resolve, reject) => {
    waiting.set(job, { resolve, reject });
    target.postMessage({ job, x: copyX.buffer, y: copyY.buffer }, [copyX.buffer, copyY.buffer]);
  });
}
