// XBARSIM_DAWN_POLL=backoff in a process of its own (the throttle installs once per process).
process.env.XBARSIM_DAWN_POLL = 'backoff';
import { afterAll, describe, expect, it } from 'vitest';
import { throttleDawnPolling } from '../../src/gpu/dawn-poll.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { dispatch, recurrence } from '../helpers/long-dispatch.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('XBARSIM_DAWN_POLL=backoff (src/gpu/dawn-poll.ts)', () => {
  it('backs off on a long wait: later polls come up to 4 ms apart, never more, and the readback is unchanged', async () => {
    const stats = throttleDawnPolling()!;
    expect(stats).not.toBeNull();
    const before = { ...stats };
    // 4096 invocations of 400k steps: about a second on lavapipe, far past the 64 ms where the delay reaches 4 ms.
    const n = 64 * 64;
    const iter = 400_000;
    const { y, waited } = await dispatch(gpu!.session.ctx.device, n, iter);
    for (let id = 0; id < n; id += 97) expect(y[id]).toBe(recurrence(id, iter));
    expect(stats.maxDelayMs).toBeLessThanOrEqual(4);
    if (waited > 200) {
      expect(stats.maxDelayMs).toBe(4);
      // Once a millisecond would be about `waited` polls; the back-off asks for at most ~waited/4 + 60.
      expect(stats.timed - before.timed).toBeLessThan(waited / 4 + 60);
    }
  });
});
