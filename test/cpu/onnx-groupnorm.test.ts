import { describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { usageMessage } from '../helpers/errors.ts';
import { GROUP_NORM_CASES, groupNormModel, groupNormReference, runGroupNorm } from '../helpers/group-norm.ts';
import { randomArray } from '../helpers/random.ts';

// GroupNormalization (opsets 18 and 21) on the CPU oracle against its definition in f64.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const B = 3;

describe('GroupNormalization', () => {
  it.each(GROUP_NORM_CASES)('%s', async (_what, c) => {
    const x = randomArray(B * c.C * c.spatial.reduce((a, b) => a * b, 1), 33, -3, 2);
    const want = groupNormReference(c, x, B);
    const got = await runGroupNorm(CPU, c, x, B);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i])));
  });

  it('refuses groups that do not divide the channels, and a scale of the other opset\'s size, in one line', () => {
    expect(usageMessage(() => importOnnx(groupNormModel({ C: 6, G: 4, spatial: [3], opset: 21 }), 'gn.onnx'))).toMatch(/^gn\.onnx: node "GroupNormalization_0" \(GroupNormalization\): attribute "num_groups" is 4; it must divide the 6 channels$/);
    // Scale and bias one per group, as opset 18 has them, in an opset-21 model.
    const perGroup = buildOnnxModel({
      opset: 21,
      inputs: [{ name: 'x', dims: ['batch', 6, 3] }],
      outputs: [{ name: 'y', dims: ['batch', 6, 3] }],
      initializers: [{ name: 's', dims: [2], data: Float32Array.of(1, 1) }, { name: 'b', dims: [2], data: Float32Array.of(0, 0) }],
      nodes: [{ op: 'GroupNormalization', inputs: ['x', 's', 'b'], outputs: ['y'], attrs: { num_groups: 2 } }],
    });
    expect(usageMessage(() => importOnnx(perGroup, 'gn.onnx'))).toMatch(/: scale has dims \[2\], expected \[6\] \(one per channel from opset 21\)$/);
  });
});
