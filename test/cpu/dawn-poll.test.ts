import { describe, expect, it } from 'vitest';
import { isDawnTick, pollingScheduler, type DawnPollStats, type PollingDeps } from '../../src/gpu/dawn-poll.ts';

describe("Dawn's poll ticks", () => {
  it('are anonymous native functions of no parameters, which no JS callback is', () => {
    // Proxy.revocable's revoke is such a function, as Napi::Function::New's are.
    expect(isDawnTick(Proxy.revocable({}, {}).revoke)).toBe(true);
    let resolve: unknown;
    void new Promise((r) => (resolve = r));
    expect(isDawnTick(resolve)).toBe(false); // a promise's resolve takes one argument
    expect(isDawnTick(() => 1)).toBe(false);
    expect(isDawnTick(function () {})).toBe(false);
    expect(isDawnTick((() => 1).bind(null))).toBe(false); // "bound "
    expect(isDawnTick(Math.max)).toBe(false); // named
    expect(isDawnTick(undefined)).toBe(false);
  });
});

/** A scheduler over fake queues and a fake clock; every function is a "tick" unless `plain` holds it. */
function harness(spinMs: number, pollMs: number) {
  let clock = 0;
  const immediates: (() => void)[] = [];
  const timers: { ms: number; cb: () => void }[] = [];
  const plain = new Set<unknown>();
  const stats: DawnPollStats = { immediate: 0, timed: 0 };
  const deps: PollingDeps = {
    immediate: (cb, ...args) => immediates.push(() => cb(...args)),
    timer: (cb, ms) => timers.push({ ms, cb }),
    isTick: (f) => !plain.has(f),
    now: () => clock,
  };
  const schedule = pollingScheduler(deps, spinMs, pollMs, stats);
  return {
    schedule,
    stats,
    immediates,
    timers,
    plain,
    advance: (ms: number) => (clock += ms),
  };
}

describe('pollingScheduler', () => {
  it('runs a wait’s ticks at once for spinMs, then on pollMs timers; a new wait spins again', () => {
    const h = harness(1, 1);
    let polls = 0;
    // Dawn's loop: each tick polls (0.3 ms of clock here) and queues the next until `done`.
    const tick = (done: () => boolean) => {
      const f = () => {
        polls++;
        h.advance(0.3);
        if (!done()) h.schedule(f);
      };
      return f;
    };
    h.schedule(tick(() => polls >= 6));
    while (h.immediates.length + h.timers.length > 0) {
      const next = h.immediates.shift() ?? h.timers.shift()!.cb;
      next();
    }
    // Queued at 0, 0.3, 0.6, 0.9 ms: immediate; at 1.2 and 1.5 ms: timers.
    expect(polls).toBe(6);
    expect(h.stats).toEqual({ immediate: 4, timed: 2 });
    // A tick queued from outside a tick (the next mapAsync) starts a new wait: immediate again.
    h.schedule(tick(() => true));
    expect(h.immediates.length).toBe(1);
    expect(h.stats.immediate).toBe(5);
  });

  it('passes other callbacks and their arguments straight to setImmediate, even from inside a tick', () => {
    const h = harness(1, 1);
    const seen: unknown[] = [];
    const user = (a: unknown, b: unknown) => seen.push(a, b);
    h.plain.add(user);
    h.schedule(user, 1, 2);
    const f = () => h.schedule(user, 3, 4);
    h.schedule(f);
    h.advance(5);
    h.immediates.splice(0).forEach((g) => g());
    h.immediates.splice(0).forEach((g) => g());
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(h.timers.length).toBe(0);
  });
});
