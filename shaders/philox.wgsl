// Philox4x32-10 and Box–Muller, bit-identical to src/random/philox.ts (which documents the key and
// counter layout). Included by kernels that draw noise; it declares no bindings.

// High word of a·b from 16-bit halves; every partial sum stays below 2^32 (t ≤ (2^16−1)² + 2^16 − 1).
fn philox_mulhi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let t = a1 * b0 + ((a0 * b0) >> 16u);
  let w = (t & 0xffffu) + a0 * b1;
  return a1 * b1 + (t >> 16u) + (w >> 16u);
}

fn philox4x32(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    let hi0 = philox_mulhi(0xd2511f53u, c.x);
    let lo0 = 0xd2511f53u * c.x;
    let hi1 = philox_mulhi(0xcd9e8d57u, c.z);
    let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}

fn uniform24(w: u32) -> f32 {
  return (f32(w >> 8u) + 0.5) / 16777216.0;
}

// Two standard Gaussians from one counter: (words 0-1, words 2-3).
fn normal2(counter: vec4<u32>, key: vec2<u32>) -> vec2<f32> {
  let w = philox4x32(counter, key);
  let r0 = sqrt(-2.0 * log(uniform24(w.x)));
  let r1 = sqrt(-2.0 * log(uniform24(w.z)));
  return vec2<f32>(r0 * cos(6.283185307179586 * uniform24(w.y)), r1 * cos(6.283185307179586 * uniform24(w.w)));
}
