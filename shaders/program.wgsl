// Programming a chip on the GPU (DESIGN.md section 4's static noise, then section 9's planes), one
// column slice at a time: the cells G [K, S, pol, P.ncols] hold columns [P.j0, P.j0 + P.ncols) of a
// layer of P.N columns and draw the counters of their place in the whole layer, so a layer split
// across bindings programs the same chip.
// `perturb`: per cell, programming noise, stuck-at faults and drift in the normative order, G clipped
// at 0 after each, drawn from the same Philox counters as src/reference/chip.ts.
// `planes`: the conductance planes R [K, NPL, P.n4·4] the crossbar kernel multiplies by, and
// (proportional read noise) the planes Q of per-cell variance factors, from the cell conductances;
// with a device model's read noise (DEVREAD) Q holds the cells' own σ² from Sg instead of G².
// MODE: 0 each (slice, polarity); 1 per-slice difference; 2 slice-weighted difference.
// Params, the bindings G, R, Q and the overrides MODE, PROG, STUCK, DRIFT, WANTQ, DEVREAD, NPL are generated
// from src/kernels/program.ts; one shader module serves every variant.

@compute @workgroup_size(64)
fn perturb(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = cellIndex(gid);
  if (i >= P.cells) { return; }
  let element = cellElement(i);
  let key = vec2<u32>(P.seed, P.chip);
  var g = G[i];
  if (PROG) {
    let n = normal2(staticCounter(element, P.layer, STREAM_PROGRAMMING), key).x;
    if (P.progModel == 0u) { g = max(0.0, g + P.progSigma * n); } else { g = max(0.0, g * (1.0 + P.progSigma * n)); }
  }
  if (STUCK) {
    let r = uniform24(philox4x32(staticCounter(element, P.layer, STREAM_STUCK_AT), key).x);
    if (r < P.sa0) { g = P.Gmin; } else if (r < P.sa0 + P.sa1) { g = 1.0; }
  }
  if (DRIFT) {
    let nu = max(0.0, P.nu + P.nuStd * normal2(staticCounter(element, P.layer, STREAM_DRIFT), key).x);
    g = max(0.0, g * exp(-nu * P.logRatio));
  }
  G[i] = g;
}

fn cell(k: u32, s: u32, q: u32, j: u32) -> f32 {
  return G[((k * P.S + s) * P.pol + q) * P.ncols + j];
}

// The read-noise variance factor of one cell: its device σ² (normalized), or G² for proportional noise.
fn cellVar(k: u32, s: u32, q: u32, j: u32, g: f32) -> f32 {
  if (DEVREAD) { let sg = Sg[((k * P.S + s) * P.pol + q) * P.ncols + j]; return sg * sg; }
  return g * g;
}

@compute @workgroup_size(64)
fn planes(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = cellIndex(gid);
  let W = P.n4 * 4u;
  if (i >= P.K * W) { return; }
  let k = i / W;
  let j = i % W;
  let o = k * NPL * W + j;
  if (j >= P.ncols) {
    for (var pl = 0u; pl < NPL; pl++) { R[o + pl * W] = 0.0; if (WANTQ) { Q[o + pl * W] = 0.0; } }
    return;
  }
  if (MODE == 0u) {
    for (var s = 0u; s < P.S; s++) {
      for (var q = 0u; q < P.pol; q++) {
        let g = cell(k, s, q, j);
        R[o + (s * P.pol + q) * W] = g;
        if (WANTQ) { Q[o + (s * P.pol + q) * W] = cellVar(k, s, q, j, g); }
      }
    }
  } else if (MODE == 1u) {
    for (var s = 0u; s < P.S; s++) {
      let gp = cell(k, s, 0u, j);
      let gn = cell(k, s, 1u, j);
      R[o + s * W] = gp - gn;
      if (WANTQ) { Q[o + s * W] = cellVar(k, s, 0u, j, gp) + cellVar(k, s, 1u, j, gn); }
    }
  } else {
    var sum = 0.0;
    var sq = 0.0;
    for (var s = 0u; s < P.S; s++) {
      let gp = cell(k, s, 0u, j);
      let gn = cell(k, s, 1u, j);
      let w = f32(1u << (s * P.cellBits));
      sum += w * (gp - gn);
      sq += w * w * (cellVar(k, s, 0u, j, gp) + cellVar(k, s, 1u, j, gn));
    }
    R[o] = sum;
    if (WANTQ) { Q[o] = sq; }
  }
}
