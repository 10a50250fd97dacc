// Decodes the explorer's binary frames (see cellportal/explorer/encoding.py):
//   "CPA1" | uint32 LE header length | UTF-8 JSON header | arrays, each 8-byte aligned.
// Arrays are viewed in place, without copying.

const MAGIC = "CPA1";
const TYPED = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export function unpackFrame(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== MAGIC) throw new Error(`not an explorer frame (magic ${JSON.stringify(magic)})`);
  const headerLength = new DataView(buffer).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const arrays = {};
  for (const spec of header.arrays) {
    const Type = TYPED[spec.dtype];
    if (!Type) throw new Error(`unknown dtype ${spec.dtype}`);
    arrays[spec.name] = new Type(buffer, spec.offset, spec.length);
  }
  return { meta: header.meta || {}, arrays };
}

// A set of cells as a little-endian bitset (bit i of byte i>>3 is cell i), the body the DE route reads.
export function maskToBitset(mask) {
  const bits = new Uint8Array((mask.length + 7) >> 3);
  for (let i = 0; i < mask.length; i++) if (mask[i]) bits[i >> 3] |= 1 << (i & 7);
  return bits;
}
