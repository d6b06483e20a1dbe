// The model's random ops (src/ir/ops-tensor.ts RandomOp), draw for draw as src/reference/tensor-ops.ts
// randomRef and src/random/philox.ts modelDraw: one invocation per output element i = gid.y·stride +
// gid.x of P.n = B·P.per, element e of sample b. Its Philox counter is (e/2 for a normal, e/4 for a
// uniform, the sample's position in the whole input set or 0, the op's stream, STREAM_MODEL) under
// the key (seed, P.modelKey). Params, the bindings X (Bernoulli's p) and Y and DIST are generated
// from src/kernels/random.ts; shaders/philox.wgsl and the counter layout are included before this.

fn sample_of(b: u32) -> u32 { return select(0u, P.offset + b, P.perSample != 0u); }

// Element i's counter word (uniforms and Bernoulli).
fn word_at(i: u32) -> u32 {
  let e = i % P.per;
  let w = philox4x32(vec4<u32>(e / 4u, sample_of(i / P.per), P.stream, STREAM_MODEL), vec2<u32>(P.seed, P.modelKey));
  return w[e % 4u];
}

// Normal (DIST 0) a + b·N(0, 1), from Box–Muller pair e % 2 of counter e/2; uniform (DIST 1) a + (b − a)·U.
@compute @workgroup_size({{WG}})
fn random_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  if (DIST == 0u) {
    let e = i % P.per;
    let z = normal2(vec4<u32>(e / 2u, sample_of(i / P.per), P.stream, STREAM_MODEL), vec2<u32>(P.seed, P.modelKey));
    Y[i] = P.a + P.b * select(z.x, z.y, (e & 1u) == 1u);
    return;
  }
  Y[i] = P.a + (P.b - P.a) * uniform24(word_at(i));
}

// Bernoulli: 1 where U < p (X), else 0, decided in integers as modelDraw does: 2k + 1 < ⌈p·2²⁵⌉
// (p·2²⁵ and its ceiling are exact in f32; p outside [0, 1] clamps, NaN gives 0).
@compute @workgroup_size({{WG}})
fn bernoulli_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let t = ceil(X[i] * 33554432.0);
  let k = word_at(i) >> 8u;
  Y[i] = select(0.0, 1.0, t > 0.0 && (t > 33554431.0 || 2u * k + 1u < u32(t)));
}
