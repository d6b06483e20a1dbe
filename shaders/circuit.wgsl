// Array circuits (DESIGN.md section 13): the resistive network of every (sub-)array solved on the GPU
// by the CPU oracle's method (src/reference/circuit.ts ArraySolver): block Gauss–Seidel over the two
// wire families, each line an exact tridiagonal (Thomas) solve, with the oracle's stop rule.
// Within one family the lines are independent given the other family's nodes, so the workgroup's
// threads solve them side by side and every sweep is the oracle's sweep (in f32).
//
// `factor`: one workgroup per sub-array (desc[a]: offset of its compact cells, rows, cols, first row k0
// in the layer, first packed column col0). Gathers its cells from the layer's cells Gl
// [K, S, pol, ncols] into Gc = [cells [r][c] | cells [c][r]] at the offset and factors every row and
// column once: F = [rowInv [c][r] | rowCp [c][r] | colInv [r][c] | colCp [r][c]], each P.total long; a
// collapsed wire (zero segment resistance) keeps 1 / (1/rTerminal + ΣG) in the first cell of its row
// (rowInv) or column (colInv).
// `solve`: one workgroup per job (jobs[j] = sub-array, drive). UNIT: the drive is row `drive` at 1 V
// alone and the column currents are that row's effective conductances, written into O in the layer's
// cell layout (superposition: a read is then ΣV·M); else the drive is V[drive·vStride + k0 + r] and the
// currents go to O[drive·oStride + col0 + c]. Node voltages u (rows), w (columns), Thomas' forward
// values and the previous sweep's currents live in the workgroup's slot of W. stats[j] = (sweeps,
// converged, estimated error).
// Layouts: what a phase's threads touch at one step of their lines is adjacent (coalesced on GPUs,
// vector loads on CPU drivers). The row phase (thread = row r, stepping c) reads GcT, the row factors,
// its forward values and writes u in column-major [c][r]; the column phase (thread = column c, stepping
// r) reads Gc, the column factors, its forward values and writes w in row-major [r][c]. Only w in the
// row phase and u in the column phase are read across lines.
// Params and bindings come from src/kernels/circuit.ts.

var<workgroup> aDelta: atomic<u32>;
var<workgroup> aDI: atomic<u32>;
var<workgroup> aMaxI: atomic<u32>;
var<workgroup> flag: u32;

// Cell (k, packed column pc) of the layer: pc = (j·S + s)·pol + q, cells [K, S, pol, ncols].
fn layerIndex(k: u32, pc: u32) -> u32 {
  let q = pc % P.pol;
  let s = (pc / P.pol) % P.S;
  let j = pc / (P.pol * P.S);
  return ((k * P.S + s) * P.pol + q) * P.ncols + j;
}

@compute @workgroup_size({{WG}})
fn factor(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let a = P.jobBase + wid.x;
  if (a >= P.nJobs) { return; }
  let off = desc[a * 5u];
  let rows = desc[a * 5u + 1u];
  let cols = desc[a * 5u + 2u];
  let k0 = desc[a * 5u + 3u];
  let col0 = desc[a * 5u + 4u];
  let T = P.total;
  for (var i = li; i < rows * cols; i += WG) {
    let r = i / cols;
    let c = i % cols;
    let g = Gl[layerIndex(k0 + r, col0 + c)];
    Gc[off + i] = g;
    Gc[T + off + c * rows + r] = g;
  }
  storageBarrier();
  // Pivots m_i = (coupling to the next node) + h_i, h_i the node's own conductance plus the previous
  // nodes' equivalent g·h/(g + h), as the oracle (the textbook recursion cancels in f32).
  for (var r = li; r < rows; r += WG) {
    if (P.rRow > 0.0) {
      let gs = 1.0 / (P.rTerminal + P.rRow);
      let gr = 1.0 / P.rRow;
      var h = 0.0;
      for (var c = 0u; c < cols; c++) {
        let i = off + c * rows + r;
        if (c == 0u) { h = Gc[T + i] + gs; } else { h = Gc[T + i] + (gr * h) / (gr + h); }
        let next = select(gr, 0.0, c == cols - 1u);
        let m = next + h;
        F[i] = 1.0 / m;
        F[T + i] = -next / m;
      }
    } else if (P.rTerminal > 0.0) {
      var d = 1.0 / P.rTerminal;
      for (var c = 0u; c < cols; c++) { d += Gc[off + r * cols + c]; }
      F[off + r] = 1.0 / d;
    }
  }
  for (var c = li; c < cols; c += WG) {
    if (P.rCol > 0.0) {
      let gend = 1.0 / (P.rCol + P.rTerminal);
      let gc = 1.0 / P.rCol;
      var h = 0.0;
      for (var r = 0u; r < rows; r++) {
        let i = off + r * cols + c;
        if (r == 0u) { h = Gc[i]; } else { h = Gc[i] + (gc * h) / (gc + h); }
        let last = r == rows - 1u;
        let m = select(gc, gend, last) + h;
        F[2u * T + i] = 1.0 / m;
        F[3u * T + i] = select(-gc / m, 0.0, last);
      }
    } else if (P.rTerminal > 0.0) {
      var d = 1.0 / P.rTerminal;
      for (var r = 0u; r < rows; r++) { d += Gc[off + r * cols + c]; }
      F[2u * T + off + c] = 1.0 / d;
    }
  }
}

fn driveOf(r: u32, drive: u32, k0: u32) -> f32 {
  if (UNIT) { return select(0.0, 1.0, r == drive); }
  return V[drive * P.vStride + k0 + r];
}

// Non-negative f32 order equals u32 order of their bits: workgroup maxima by atomicMax.
fn maxInto(p: ptr<workgroup, atomic<u32>>, x: f32) {
  atomicMax(p, bitcast<u32>(x));
}

@compute @workgroup_size({{WG}})
fn solve(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let job = P.jobBase + wid.x;
  if (job >= P.nJobs) { return; }
  let a = jobs[job * 2u];
  let drive = jobs[job * 2u + 1u];
  let off = desc[a * 5u];
  let rows = desc[a * 5u + 1u];
  let cols = desc[a * 5u + 2u];
  let k0 = desc[a * 5u + 3u];
  let col0 = desc[a * 5u + 4u];
  let n = rows * cols;
  let T = P.total;
  // The slot: u [n], w [n], Thomas forward values [n], previous currents [cols].
  let su = wid.x * P.slotWords;
  let sw = su + P.maxCells;
  let sd = sw + P.maxCells;
  let si = sd + P.maxCells;
  let rowsFixed = P.rRow == 0.0 && P.rTerminal == 0.0;
  let colsGround = P.rCol == 0.0 && P.rTerminal == 0.0;
  let gs = select(1.0 / P.rTerminal, 1.0 / (P.rTerminal + P.rRow), P.rRow > 0.0);
  let gr = 1.0 / P.rRow;
  let gc = 1.0 / P.rCol;
  let gend = select(1.0 / P.rTerminal, 1.0 / (P.rCol + P.rTerminal), P.rCol > 0.0);

  var vm = 0.0;
  for (var r = li; r < rows; r += WG) { vm = max(vm, abs(driveOf(r, drive, k0))); }
  maxInto(&aMaxI, vm);
  for (var i = li; i < n; i += WG) {
    W[su + i] = driveOf(i % rows, drive, k0);
    W[sw + i] = 0.0;
  }
  for (var c = li; c < cols; c += WG) { W[si + c] = 0.0; }
  storageBarrier();
  workgroupBarrier();
  if (li == 0u) { flag = select(0u, 1u, atomicLoad(&aMaxI) == 0u); }
  let idle = workgroupUniformLoad(&flag);

  var iters = 0u;
  var converged = idle != 0u;
  var err = 0.0;
  var prev = 3.0e38;
  if (idle == 0u) {
    err = 3.0e38;
    for (var it = 1u; it <= P.maxIterations; it++) {
      if (li == 0u) {
        atomicStore(&aDelta, 0u);
        atomicStore(&aDI, 0u);
        atomicStore(&aMaxI, 0u);
      }
      workgroupBarrier();
      var ld = 0.0;
      if (!rowsFixed) {
        for (var r = li; r < rows; r += WG) {
          // Cell (r, c): [c][r] at c·rows + r for this phase's own data, [r][c] for w.
          let wb = sw + r * cols;
          let gt = T + off + r;
          let vr = driveOf(r, drive, k0);
          if (P.rRow == 0.0) {
            var num = gs * vr;
            for (var c = 0u; c < cols; c++) { num += Gc[gt + c * rows] * W[wb + c]; }
            let x = num * F[off + r];
            for (var c = 0u; c < cols; c++) {
              let iu = su + c * rows + r;
              ld = max(ld, abs(x - W[iu]));
              W[iu] = x;
            }
            continue;
          }
          var d = (Gc[gt] * W[wb] + gs * vr) * F[off + r];
          W[sd + r] = d;
          for (var c = 1u; c < cols; c++) {
            d = (Gc[gt + c * rows] * W[wb + c] + gr * d) * F[off + c * rows + r];
            W[sd + c * rows + r] = d;
          }
          var x = d;
          let il = su + (cols - 1u) * rows + r;
          ld = max(ld, abs(x - W[il]));
          W[il] = x;
          for (var c = i32(cols) - 2; c >= 0; c--) {
            let cr = u32(c) * rows + r;
            x = W[sd + cr] - F[T + off + cr] * x;
            ld = max(ld, abs(x - W[su + cr]));
            W[su + cr] = x;
          }
        }
      }
      storageBarrier();
      var ldI = 0.0;
      var lmI = 0.0;
      for (var c = li; c < cols; c += WG) {
        if (colsGround) {
          var I = 0.0;
          for (var r = 0u; r < rows; r++) { I += Gc[off + r * cols + c] * W[su + c * rows + r]; }
          W[si + c] = I;
          continue;
        }
        if (P.rCol == 0.0) {
          var num = 0.0;
          for (var r = 0u; r < rows; r++) { num += Gc[off + r * cols + c] * W[su + c * rows + r]; }
          let x = num * F[2u * T + off + c];
          for (var r = 0u; r < rows; r++) {
            ld = max(ld, abs(x - W[sw + r * cols + c]));
            W[sw + r * cols + c] = x;
          }
          let I = x * gend;
          ldI = max(ldI, abs(I - W[si + c]));
          lmI = max(lmI, abs(I));
          W[si + c] = I;
          continue;
        }
        var d = Gc[off + c] * W[su + c * rows] * F[2u * T + off + c];
        W[sd + c] = d;
        for (var r = 1u; r < rows; r++) {
          let i = r * cols + c;
          d = (Gc[off + i] * W[su + c * rows + r] + gc * d) * F[2u * T + off + i];
          W[sd + i] = d;
        }
        var x = d;
        let last = (rows - 1u) * cols + c;
        ld = max(ld, abs(x - W[sw + last]));
        W[sw + last] = x;
        let I = x * gend;
        ldI = max(ldI, abs(I - W[si + c]));
        lmI = max(lmI, abs(I));
        W[si + c] = I;
        for (var r = i32(rows) - 2; r >= 0; r--) {
          let i = u32(r) * cols + c;
          x = W[sd + i] - F[3u * T + off + i] * x;
          ld = max(ld, abs(x - W[sw + i]));
          W[sw + i] = x;
        }
      }
      maxInto(&aDelta, ld);
      maxInto(&aDI, ldI);
      maxInto(&aMaxI, lmI);
      storageBarrier();
      workgroupBarrier();
      if (li == 0u) {
        let delta = bitcast<f32>(atomicLoad(&aDelta));
        var stop = 0u;
        // Either family ideal: the other family's line solves are the whole solution.
        if (rowsFixed || colsGround || delta == 0.0) {
          stop = 1u;
          err = 0.0;
        } else {
          let rho = delta / prev;
          prev = delta;
          if (it >= 2u && rho < 1.0) {
            err = (bitcast<f32>(atomicLoad(&aDI)) * max(rho / (1.0 - rho), 1.0)) / bitcast<f32>(atomicLoad(&aMaxI));
            if (err <= P.tolerance) { stop = 1u; }
          }
        }
        flag = stop;
      }
      iters = it;
      if (workgroupUniformLoad(&flag) != 0u) {
        converged = true;
        break;
      }
    }
  }
  for (var c = li; c < cols; c += WG) {
    let I = W[si + c];
    if (UNIT) { O[layerIndex(k0 + drive, col0 + c)] = I; } else { O[drive * P.oStride + col0 + c] = I; }
  }
  if (li == 0u) {
    stats[job * 3u] = f32(iters);
    stats[job * 3u + 1u] = select(0.0, 1.0, converged);
    stats[job * 3u + 2u] = err;
  }
}
