// `xbarsim adapt` on the shipped transformer (models/fmnist-vit.onnx, all 17 linear layers, backward
// through layernorm, attention's matmuls and softmax, GELU, residual adds and the class-token gather)
// at a fixed noisy config: a short on-chip run lowers the training loss and raises test accuracy over
// no adapters, and `eval --adapters` reproduces the accuracy adapt reported. Sized to stay near a
// minute on the CPU reference (32 training images, 48 test images).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/cli.ts';

const VIT = 'models/fmnist-vit.onnx';
const dir = mkdtempSync(join(tmpdir(), 'xbarsim-adapt-vit-'));
const cfg = join(dir, 'noisy.json');
// One 8-bit input cycle and weight slice (fast on the CPU), 8-bit ADC, programming σ 0.08: the ViT
// (87.5% digital) drops to about 60% on chip 0.
writeFileSync(cfg, JSON.stringify({ preset: 'prime', inputs: { dacBits: 8 }, weights: { cellBits: 8, mapping: 'differential' }, adc: { bits: 8 }, noise: { programming: { sigma: 0.08 } }, calibration: { samples: 32 }, seed: 4 }));

describe('xbarsim adapt on the shipped transformer', () => {
  it('on-chip adapters on every linear layer lower the loss and raise accuracy; eval --adapters reproduces it', async () => {
    const out = join(dir, 'vit.npz');
    const r = await runMain(['adapt', '--model', VIT, '--dataset', 'fashion-mnist', '--config', cfg, '--chip', '0', '--rank', '4', '--alpha', '8', '--lr', '0.004', '--batch', '16', '--epochs', '2', '--limit', '32', '--holdout', '16', '--eval-limit', '48', '--backend', 'cpu', '--json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.layers).toHaveLength(17);
    const log = rep.epochLog as { loss: number }[];
    expect(log[1].loss).toBeLessThan(0.8 * log[0].loss);
    expect(rep.evaluation.accuracyWith).toBeGreaterThan(rep.evaluation.accuracyWithout + 0.05);
    const ev = await runMain(['eval', '--model', VIT, '--dataset', 'fashion-mnist', '--config', cfg, '--limit', '48', '--chips', '1', '--adapters', out, '--backend', 'cpu', '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).chips[0].accuracy).toBe(rep.evaluation.accuracyWith);
  }, 300_000);
});
