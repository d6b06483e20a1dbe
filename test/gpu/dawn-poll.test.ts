import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { throttleDawnPolling } from '../../src/gpu/dawn-poll.ts';
import { dispatch, expected, recurrence } from '../helpers/long-dispatch.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { runCli } from '../helpers/cli.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)("Dawn's polling in Node (src/gpu/dawn-poll.ts)", () => {
  it('an unknown XBARSIM_DAWN_POLL is refused with one line naming the allowed values, exit 2', () => {
    const r = runCli(['eval', '--model', 'models/mlp.onnx', '--dataset', 'mnist', '--limit', '2'], { XBARSIM_DAWN_POLL: 'fixed' });
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual(['xbarsim: XBARSIM_DAWN_POLL=fixed: one of spin, backoff (unset: Dawn\'s queue polled every millisecond)']);
  });

  it('is throttled once a wait outlasts the spin window, and the readback is unchanged', async () => {
    const stats = throttleDawnPolling();
    expect(stats).not.toBeNull(); // node-gpu.ts installed it for a software adapter; otherwise this call does
    const before = { ...stats! };
    const n = 64 * 64;
    const { y, waited } = await dispatch(gpu!.session.ctx.device, n, 20000);
    expect(y).toEqual(expected(n));
    expect(stats!.immediate).toBeGreaterThan(before.immediate);
    // A software adapter takes far longer than the 1 ms spin window here; a fast GPU may answer
    // within it, and then no tick is deferred, which is the point of the window.
    if (waited > 10) expect(stats!.timed).toBeGreaterThan(before.timed);
    else if (waited < 1) expect(stats!.timed).toBe(before.timed);
  });

  it('polls a long wait every millisecond by default, never slower, and the readback is unchanged', async () => {
    const stats = throttleDawnPolling()!;
    const before = { ...stats };
    // 4096 invocations of 400k steps: about a second on lavapipe.
    const n = 64 * 64;
    const iter = 400_000;
    const { y, waited } = await dispatch(gpu!.session.ctx.device, n, iter);
    for (let id = 0; id < n; id += 97) expect(y[id]).toBe(recurrence(id, iter));
    expect(stats.maxDelayMs).toBe(1);
    // One poll per millisecond at most (timers come late on a loaded machine, never early).
    expect(stats.timed - before.timed).toBeLessThanOrEqual(waited + 1);
    if (waited > 200) expect(stats.timed - before.timed).toBeGreaterThan(waited / 50);
  });

  it('leaves other setImmediate callers alone: arguments, clearImmediate, util.promisify', async () => {
    const seen = await new Promise<string>((done) => setImmediate((a: string, b: string) => done(a + b), 'imm', 'ediate'));
    expect(seen).toBe('immediate');
    let ran = false;
    clearImmediate(setImmediate(() => (ran = true)));
    await promisify(setImmediate)();
    expect(ran).toBe(false);
    expect(await promisify(setImmediate)('value')).toBe('value');
  });
});
