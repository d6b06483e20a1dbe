import { describe, expect, it } from 'vitest';
import type { LinearOp } from '../../src/ir/graph.ts';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';
import { runOn } from '../helpers/torch-fixtures.ts';
import { RNN_CASES, rnnCase } from '../helpers/torch-rnn.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// PyTorch 1.13's nn.LSTM, nn.GRU and nn.RNN exports (test/fixtures/torch-rnn, scripts/torch-rnn-fixture.py),
// unrolled over their 7 time steps: every case against PyTorch's own outputs.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const T = 7;

/**
 * Distinct crossbar layers per case: per recurrent node and direction the input projection and the
 * tied recurrent weight, plus the Linear head; how many times each tied layer runs (a zero initial
 * state skips the first step's product).
 */
const LAYERS: Record<string, { layers: number; uses: number }> = {
  gru: { layers: 3, uses: T - 1 },
  // A learned initial state (not zero): every step reads the recurrent weight.
  'gru-learned-h0-expand': { layers: 2, uses: T },
  'gru-learned-h0-static': { layers: 2, uses: T },
  'rnn-learned-h0-repeat': { layers: 2, uses: T },
  'gru-bidirectional-2layer': { layers: 9, uses: T - 1 },
  'gru-mean-seq-first': { layers: 2, uses: T - 1 },
  lstm: { layers: 3, uses: T - 1 },
  'lstm-11': { layers: 9, uses: T - 1 },
  'lstm-17': { layers: 3, uses: T - 1 },
  'lstm-2layer-batch-first': { layers: 5, uses: T - 1 },
  'lstm-bidirectional': { layers: 5, uses: T - 1 },
  'lstm-bidirectional-hn-cat': { layers: 4, uses: T - 1 },
  'lstm-bidirectional-sequence': { layers: 4, uses: T - 1 },
  // A static batch: the zero initial state is a constant with the traced batch in it, still skipped.
  'gru-2layer-static': { layers: 4, uses: T - 1 },
  'lstm-bidirectional-hn-cat-static': { layers: 8, uses: T - 1 },
  'lstm-state-inputs': { layers: 2, uses: T },
  'rnn-relu': { layers: 3, uses: T - 1 },
  'rnn-tanh': { layers: 3, uses: T - 1 },
};

describe.each(RNN_CASES)('PyTorch recurrent export %s', (name) => {
  const c = rnnCase(name);
  const scale = Math.max(maxAbs(c.y), 1e-6);

  it('matches PyTorch in f32', async () => {
    const y = await runOn(CPU, c.net, IDEAL16, true, c.x, c.B);
    expect(y.length).toBe(c.y.length);
    expect(maxAbsDiff(y, c.y)).toBeLessThan(1e-5 * scale);
  });

  it('matches PyTorch on noise-free 16-bit crossbars', async () => {
    expect(maxAbsDiff(await runOn(CPU, c.net, IDEAL16, false, c.x, c.B), c.y)).toBeLessThan(1e-3 * scale);
  });

  it('gives each sample the same result at batch 3 as at batch 4', async () => {
    const per = c.x.length / c.B;
    const four = await runOn(CPU, c.net, IDEAL16, true, c.x, c.B);
    const three = await runOn(CPU, c.net, IDEAL16, true, c.x.subarray(0, 3 * per), 3);
    expect(Array.from(three)).toEqual(Array.from(four.subarray(0, (3 * four.length) / c.B)));
  });

  it('runs each recurrent weight as one tied layer: one name, weight and layer index for every step', () => {
    const linear = c.net.ops.filter((o): o is LinearOp => o.kind === 'linear');
    expect(new Set(linear.map((o) => o.layerIndex)).size).toBe(LAYERS[name].layers);
    const ties = new Map<string, LinearOp[]>();
    for (const o of linear) if (o.tie !== undefined) ties.set(o.tie, [...(ties.get(o.tie) ?? []), o]);
    expect(ties.size).toBeGreaterThan(0);
    for (const uses of ties.values()) {
      expect(uses.length).toBe(LAYERS[name].uses);
      const [first] = uses;
      for (const o of uses) {
        expect([o.name, o.weight, o.bias, o.K, o.N, o.inShape, o.layerIndex]).toEqual([first.name, first.weight, null, first.K, first.N, first.inShape, first.layerIndex]);
        expect(o.weight).toBe(first.weight);
      }
    }
    // Untied layers (projections, the head) each have an index of their own.
    const untied = linear.filter((o) => o.tie === undefined).map((o) => o.layerIndex);
    expect(new Set(untied).size).toBe(untied.length);
  });
});
