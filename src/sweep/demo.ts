import { fileURLToPath } from 'node:url';

/**
 * The built-in demo (`xbarsim sweep` with no options): LeNet-5 on MNIST test digits, ISAAC vs
 * Neural-PIM, programming noise sigma 0 → 0.1. The numbers are sized so the whole demo runs in
 * at most 10 minutes on a 2-core machine without a GPU (CPU reference backend):
 * 2 presets × DEMO_POINTS sigmas × DEMO_CHIPS chips × DEMO_LIMIT digits evaluations in all.
 * Tune them here, and only here.
 */
export const DEMO_PRESETS: readonly string[] = ['isaac', 'neural-pim'];
/** Number of programming-noise levels, evenly spaced from 0 to DEMO_SIGMA_MAX inclusive. */
export const DEMO_POINTS = 6;
export const DEMO_SIGMA_MAX = 0.1;
/** Chips per point: enough for visible 95% confidence bands. */
export const DEMO_CHIPS = 8;
/** MNIST test digits per evaluation. */
export const DEMO_LIMIT = 100;
/** Where the demo writes (relative to the working folder) unless --out is given. */
export const DEMO_OUT = 'xbarsim-sweep-demo';
/** The demo's --vary. */
export const DEMO_VARY = `noise.programming.sigma=0:${DEMO_SIGMA_MAX}:${DEMO_POINTS}`;
/** The demo model, shipped with the package. */
export const DEMO_MODEL: string = fileURLToPath(new URL('../../models/lenet5.onnx', import.meta.url));
