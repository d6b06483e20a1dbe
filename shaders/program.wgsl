// Programming a chip on the GPU (DESIGN.md section 4's static noise, then section 9's planes).
// `perturb`: per cell, programming noise, stuck-at faults and drift in the normative order, G clipped
// at 0 after each, drawn from the same Philox counters as src/reference/chip.ts.
// `planes`: the conductance planes the crossbar kernel multiplies by, and (proportional read noise)
// the planes of per-cell variance factors, from the cell conductances.
struct Params {
  cells: u32,
  K: u32,
  N: u32,
  N4: u32,
  S: u32,
  pol: u32,
  cellBits: u32,
  seed: u32,
  chip: u32,
  layer: u32,
  progModel: u32,   // 0 additive, 1 proportional
  pad0: u32,
  progSigma: f32,
  sa0: f32,
  sa1: f32,
  nu: f32,
  nuStd: f32,
  logRatio: f32,    // ln(t / t0)
  Gmin: f32,
  pad1: f32,
}

const MODE: u32 = {{MODE}}u;  // planes: 0 each (slice, polarity); 1 per-slice difference; 2 slice-weighted difference
const PROG: bool = {{PROG}};
const STUCK: bool = {{STUCK}};
const DRIFT: bool = {{DRIFT}};
const WANTQ: bool = {{WANTQ}};
const NPL: u32 = {{NPL}}u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> G: array<f32>;        // [K, S, pol, N] cells
@group(0) @binding(2) var<storage, read_write> R: array<f32>;        // [K, NPL, N4*4] planes
@group(0) @binding(3) var<storage, read_write> Q: array<f32>;        // [K, NPL, N4*4] variance planes

{{PHILOX}}

fn cellIndex(gid: vec3<u32>) -> u32 {
  return gid.x + gid.y * {{ROWSTRIDE}}u;
}

@compute @workgroup_size(64)
fn perturb(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = cellIndex(gid);
  if (i >= P.cells) { return; }
  let key = vec2<u32>(P.seed, P.chip);
  var g = G[i];
  if (PROG) {
    let n = normal2(vec4<u32>(i, 0u, P.layer, 1u), key).x;
    if (P.progModel == 0u) { g = max(0.0, g + P.progSigma * n); } else { g = max(0.0, g * (1.0 + P.progSigma * n)); }
  }
  if (STUCK) {
    let r = uniform24(philox4x32(vec4<u32>(i, 0u, P.layer, 2u), key).x);
    if (r < P.sa0) { g = P.Gmin; } else if (r < P.sa0 + P.sa1) { g = 1.0; }
  }
  if (DRIFT) {
    let nu = max(0.0, P.nu + P.nuStd * normal2(vec4<u32>(i, 0u, P.layer, 3u), key).x);
    g = max(0.0, g * exp(-nu * P.logRatio));
  }
  G[i] = g;
}

fn cell(k: u32, s: u32, q: u32, j: u32) -> f32 {
  return G[((k * P.S + s) * P.pol + q) * P.N + j];
}

@compute @workgroup_size(64)
fn planes(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = cellIndex(gid);
  let W = P.N4 * 4u;
  if (i >= P.K * W) { return; }
  let k = i / W;
  let j = i % W;
  let o = k * NPL * W + j;
  if (j >= P.N) {
    for (var pl = 0u; pl < NPL; pl++) { R[o + pl * W] = 0.0; if (WANTQ) { Q[o + pl * W] = 0.0; } }
    return;
  }
  if (MODE == 0u) {
    for (var s = 0u; s < P.S; s++) {
      for (var q = 0u; q < P.pol; q++) {
        let g = cell(k, s, q, j);
        R[o + (s * P.pol + q) * W] = g;
        if (WANTQ) { Q[o + (s * P.pol + q) * W] = g * g; }
      }
    }
  } else if (MODE == 1u) {
    for (var s = 0u; s < P.S; s++) {
      let gp = cell(k, s, 0u, j);
      let gn = cell(k, s, 1u, j);
      R[o + s * W] = gp - gn;
      if (WANTQ) { Q[o + s * W] = gp * gp + gn * gn; }
    }
  } else {
    var sum = 0.0;
    var sq = 0.0;
    for (var s = 0u; s < P.S; s++) {
      let gp = cell(k, s, 0u, j);
      let gn = cell(k, s, 1u, j);
      let w = f32(1u << (s * P.cellBits));
      sum += w * (gp - gn);
      sq += w * w * (gp * gp + gn * gn);
    }
    R[o] = sum;
    if (WANTQ) { Q[o] = sq; }
  }
}
