// 64-bit two's-complement integers as vec2<u32>(low word, high word): exact integer arithmetic where
// WGSL has no 64-bit type (the near-memory digital unit's formats wider than f32 holds, shaders/xbar.wgsl).

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

fn neg64(a: vec2<u32>) -> vec2<u32> {
  return add64(~a, vec2<u32>(1u, 0u));
}

fn isNeg64(a: vec2<u32>) -> bool {
  return (a.y >> 31u) != 0u;
}

// a·b exactly, from four 16 × 16-bit products.
fn mul32x32(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let mid = p01 + a1 * b0;
  let midCarry = select(0u, 0x10000u, mid < p01);
  let lo = p00 + (mid << 16u);
  return vec2<u32>(lo, a1 * b1 + (mid >> 16u) + midCarry + select(0u, 1u, lo < p00));
}

// Shifts by s in [0, 63] (WGSL masks a u32 shift to 5 bits, so every branch keeps it below 32).
fn shl64(a: vec2<u32>, s: u32) -> vec2<u32> {
  if (s == 0u) { return a; }
  if (s >= 32u) { return vec2<u32>(0u, a.x << (s - 32u)); }
  return vec2<u32>(a.x << s, (a.y << s) | (a.x >> (32u - s)));
}

fn shr64(a: vec2<u32>, s: u32) -> vec2<u32> {
  if (s == 0u) { return a; }
  if (s >= 32u) { return vec2<u32>(a.y >> (s - 32u), 0u); }
  return vec2<u32>((a.x >> s) | (a.y << (32u - s)), a.y >> s);
}

// Arithmetic shift right: floor(a / 2^s).
fn sar64(a: vec2<u32>, s: u32) -> vec2<u32> {
  let r = shr64(a, s);
  if (!isNeg64(a)) { return r; }
  return r | ~shr64(vec2<u32>(0xffffffffu), s);
}

fn bitLength64(a: vec2<u32>) -> u32 {
  if (a.y != 0u) { return 64u - countLeadingZeros(a.y); }
  return 32u - countLeadingZeros(a.x);
}

// a < b, unsigned.
fn ltU64(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.y < b.y || (a.y == b.y && a.x < b.x);
}

// a < b, signed.
fn ltS64(a: vec2<u32>, b: vec2<u32>) -> bool {
  let ah = bitcast<i32>(a.y);
  let bh = bitcast<i32>(b.y);
  return ah < bh || (ah == bh && a.x < b.x);
}

fn fromI32(v: i32) -> vec2<u32> {
  return vec2<u32>(bitcast<u32>(v), select(0u, 0xffffffffu, v < 0));
}
