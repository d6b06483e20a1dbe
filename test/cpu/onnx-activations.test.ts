import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type AttrValue, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { randomArray } from '../helpers/random.ts';

// The activations PyTorch exports beyond ReLU's family (nn.ELU, CELU, SELU, Softplus, Softsign, Mish,
// PReLU), each against its ONNX definition written out here in f64, independently of src/reference.
const CFG = resolveConfig({ preset: 'ideal' });
const SHAPE = [2, 3, 4];
const B = 3;

/** One node `op` on x [batch, 2, 3, 4] (plus initializers), run digitally on the CPU for B samples. */
async function run(op: string, attrs: Record<string, AttrValue> = {}, init: BuildTensor[] = [], opset = 17): Promise<{ x: Float32Array; y: Float32Array }> {
  const bytes = buildOnnxModel({
    opset,
    inputs: [{ name: 'x', dims: ['batch', ...SHAPE] }],
    outputs: [{ name: 'y', dims: ['batch', ...SHAPE] }],
    initializers: init,
    nodes: [{ op, inputs: ['x', ...init.map((t) => t.name)], outputs: ['y'], attrs, name: op }],
  });
  const net = importOnnx(bytes, `${op}.onnx`);
  const n = SHAPE.reduce((a, b) => a * b, 1);
  // Inputs over [−12, 12): both branches of every function, and the far tails of softplus.
  const x = randomArray(B * n, 5).map((v) => 12 * v);
  const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
  const y = (await runner.forward(null, x, B, 0)).output;
  runner.destroy();
  return { x, y };
}

function expectClose(got: Float32Array, want: number[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(want[i])));
}

const softplus = (v: number): number => (v > 30 ? v : Math.log(1 + Math.exp(v)));

describe('ONNX activations beyond the ReLU family (PyTorch nn.ELU, CELU, SELU, Softplus, Softsign, Mish, PReLU)', () => {
  const cases: [string, Record<string, AttrValue>, (v: number) => number, number?][] = [
    ['Elu', {}, (v) => (v < 0 ? Math.exp(v) - 1 : v)],
    ['Elu', { alpha: 0.5 }, (v) => (v < 0 ? 0.5 * (Math.exp(v) - 1) : v)],
    ['Celu', { alpha: 2 }, (v) => Math.max(0, v) + Math.min(0, 2 * (Math.exp(v / 2) - 1))],
    ['Selu', {}, (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1))],
    ['Selu', { alpha: 2, gamma: 3 }, (v) => 3 * (v > 0 ? v : 2 * (Math.exp(v) - 1))],
    ['Softplus', {}, softplus],
    ['Softsign', {}, (v) => v / (1 + Math.abs(v))],
    ['Mish', {}, (v) => v * Math.tanh(softplus(v)), 18],
    // Fourier features and quantizers apply these to activations (they folded on constants only before).
    ['Sin', {}, Math.sin],
    ['Cos', {}, Math.cos],
    ['Floor', {}, Math.floor],
    ['Ceil', {}, Math.ceil],
    ['Round', {}, (v) => (Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v))],
  ];
  it.each(cases)('%s %j', async (op, attrs, f, opset) => {
    const { x, y } = await run(op, attrs, [], opset);
    expectClose(y, Array.from(x, f));
  });

  it('Softplus far below zero keeps its tiny values (no log(1 + e) collapse to 0)', async () => {
    const { x, y } = await run('Softplus');
    for (let i = 0; i < x.length; i++) if (x[i] < -8) expect(y[i] / Math.log1p(Math.exp(x[i]))).toBeCloseTo(1, 5);
  });

  it('PRelu with one slope and with a slope per channel ([C, 1, 1], as PyTorch exports nn.PReLU(C)) is exact', async () => {
    for (const slope of [Float32Array.of(0.25), Float32Array.of(0.1, -0.3, 2)]) {
      const dims = slope.length === 1 ? [1] : [2, 1, 1];
      const s = slope.length === 1 ? slope : Float32Array.of(0.1, -0.3);
      const { x, y } = await run('PRelu', {}, [{ name: 'slope', dims, data: s }]);
      const per = 3 * 4;
      const want = Array.from(x, (v, i) => (v < 0 ? Math.fround(s[s.length === 1 ? 0 : Math.floor(i / per) % 2] * v) : v));
      expect(Array.from(y)).toEqual(want);
    }
  });

  it('Sin, Cos, Floor, Ceil and Round (half to even) of constants fold, as position tables need', async () => {
    const v = Float32Array.of(-2.5, -0.5, 0.5, 1.5, 2.5, 0.3, -1.7, 3.14159);
    const fold = async (op: string): Promise<Float32Array> => {
      const bytes = buildOnnxModel({
        opset: 13,
        inputs: [{ name: 'x', dims: ['batch', 8] }],
        outputs: [{ name: 'y', dims: ['batch', 8] }],
        initializers: [{ name: 'c', dims: [8], data: v }],
        nodes: [{ op, inputs: ['c'], outputs: ['k'] }, { op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
      });
      const net = importOnnx(bytes, `${op}.onnx`);
      const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
      const y = (await runner.forward(null, new Float32Array(8), 1, 0)).output;
      runner.destroy();
      return y;
    };
    expect(Array.from(await fold('Round'))).toEqual([-2, 0, 0, 2, 2, 0, -2, 3]);
    expect(Array.from(await fold('Floor'))).toEqual([-3, -1, 0, 1, 2, 0, -2, 3]);
    expect(Array.from(await fold('Ceil'))).toEqual([-2, 0, 1, 2, 3, 1, -1, 4]);
    expectClose(await fold('Sin'), Array.from(v, Math.sin));
    expectClose(await fold('Cos'), Array.from(v, Math.cos));
  });

  it('Celu with alpha 0 is one line naming the node and the attribute', () => {
    const bytes = buildOnnxModel({
      opset: 17,
      inputs: [{ name: 'x', dims: ['batch', 4] }],
      outputs: [{ name: 'y', dims: ['batch', 4] }],
      nodes: [{ op: 'Celu', inputs: ['x'], outputs: ['y'], attrs: { alpha: 0 }, name: 'c' }],
    });
    expect(usageMessage(() => importOnnx(bytes, 'm.onnx'))).toMatch(/^m\.onnx: node "c" \(Celu\): attribute "alpha" is 0; Celu divides by it/);
  });
});
