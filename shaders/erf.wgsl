// erfc and erf, shared by the forward ops (shaders/elementwise.wgsl) and their backward
// (shaders/backward.wgsl), so GELU's derivative uses the very Φ its forward does.

// erfc to a relative error below 1.2e-7 for every x (Numerical Recipes in C, 2nd ed., §6.2,
// erfcc: a Chebyshev fit), so the tail below 0 of gelu keeps its relative accuracy.
fn erfc_fn(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return select(2.0 - r, r, x >= 0.0);
}

// erf: its Maclaurin series near 0 (where 1 - erfc would lose the relative accuracy ONNX's rtol
// needs), 1 - erfc beyond.
fn erf_fn(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    let x2 = x * x;
    let s = 1.0 - x2 * (1.0 / 3.0 - x2 * (0.1 - x2 * (1.0 / 42.0 - x2 * (1.0 / 216.0 - x2 * (1.0 / 1320.0 - x2 / 9360.0)))));
    return 1.1283791670955126 * x * s;
  }
  return sign(x) * (1.0 - erfc_fn(abs(x)));
}
