// im2col for one convolution group (DESIGN.md section 6): cols[row, col] with rows (b, oh, ow) and
// columns (ci, ki, kj) over the group's input channels, zero outside the input. One invocation per row
// (grid as in elementwise.wgsl over P.n rows): the row's coordinates are divided out once and its
// columns walked in order, since per-element index arithmetic (five divisions an element) is what an
// element costs on CPU drivers, which have no vector integer division. Rows are numbered over the
// whole batch: a dispatch writes rows from P.row0 on, at P.y_shift in its binding of Y, so a matrix
// larger than one storage binding is written in windows.
// Params and the bindings X, Y are generated from src/kernels/im2col.ts.

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let row = P.row0 + i;
  let b = row / P.plane;
  let p = row % P.plane;
  let ih0 = i32((p / P.OW) * P.sh) - P.pt;
  let iw0 = i32((p % P.OW) * P.sw) - P.pl;
  let cinG = P.kc / (P.kh * P.kw);
  var o = P.y_shift + i * P.kc;
  for (var ci = 0u; ci < cinG; ci++) {
    let xc = (b * P.cin + P.chan0 + ci) * P.H;
    for (var ki = 0u; ki < P.kh; ki++) {
      let ih = ih0 + i32(ki * P.dh);
      let inH = ih >= 0 && ih < i32(P.H);
      for (var kj = 0u; kj < P.kw; kj++) {
        let iw = iw0 + i32(kj * P.dw);
        var v = 0.0;
        if (inH && iw >= 0 && iw < i32(P.W)) { v = X[(xc + u32(ih)) * P.W + u32(iw)]; }
        Y[o] = v;
        o++;
      }
    }
  }
}
