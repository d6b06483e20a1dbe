// Philox4x32-10 and Box–Muller, bit-identical to src/random/philox.ts (which documents the key and
// counter layout). Included by kernels that draw noise; it declares no bindings.

fn philox_mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let lh = al * bh;
  let hl = ah * bl;
  let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
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
