import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { IN_CI } from '../helpers/gpu.ts';
import { parseNpy } from '../../src/io/npy.ts';

describe('xbarsim vmm: the WebGPU backend matches the CPU reference end to end', () => {
  it.each(['ideal', 'neural-pim', 'cascade'])('%s', (preset) => {
    const dir = tempDir();
    const W = writeNpy(dir, 'W.npy', [150, 9], randomArray(1350, 11), '<f8');
    const X = writeNpy(dir, 'X.npy', [12, 150], randomArray(1800, 12));
    const C = writeNpy(dir, 'C.npy', [30, 150], randomArray(4500, 13));
    const outs: Float64Array[] = [];
    for (const backend of ['webgpu', 'cpu']) {
      const out = join(dir, `Y-${backend}.npy`);
      const r = runCli(['vmm', '--weights', W, '--inputs', X, '--calibrate', C, '--preset', preset, '--out', out, '--backend', backend]);
      if (r.code === 2 && backend === 'webgpu' && !IN_CI) return console.warn('SKIP: no adapter');
      expect(r.code, r.stderr).toBe(0);
      outs.push(parseNpy(readFileSync(out), 'Y').data);
    }
    // Quantizing ADC: equal except where a conversion sits within float rounding of a code boundary.
    const scale = maxAbs(outs[1]);
    let differing = 0;
    for (let i = 0; i < outs[0].length; i++) if (Math.abs(outs[0][i] - outs[1][i]) > 1e-5 * scale) differing++;
    expect(differing).toBeLessThanOrEqual(Math.ceil(0.02 * outs[0].length));
    if (preset === 'ideal') expect(maxAbsDiff(outs[0], outs[1])).toBeLessThanOrEqual(1e-5 * scale);
  });
});
