/** 16-bit float formats as stored in ONNX tensors and .npy files, widened to numbers (xbarsim computes in f32). */

/** IEEE 754 half-precision bits → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** bfloat16 bits (the high half of an f32) → number. */
export function bfloat16ToFloat(h: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, (h & 0xffff) << 16);
  return v.getFloat32(0);
}
