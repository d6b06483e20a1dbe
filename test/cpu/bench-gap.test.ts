import { describe, expect, it } from 'vitest';
import { parseKernelCaseId } from '../../bench/core/gap-probe.ts';
import { cpuPerRun, threadCpu } from '../../bench/threads.ts';

describe('bench:gap helpers', () => {
  it('parses kernel case ids and nothing else', () => {
    expect(parseKernelCaseId('kernel/isaac/K256/B256', 0.02)).toEqual({ preset: 'isaac', K: 256, B: 256, readSigma: 0.02 });
    expect(parseKernelCaseId('kernel/neural-pim/K1024/B1', 0)).toEqual({ preset: 'neural-pim', K: 1024, B: 1, readSigma: 0 });
    expect(parseKernelCaseId('network/lenet5/isaac', 0.02)).toBeNull();
    expect(parseKernelCaseId('kernel/isaac/K256', 0.02)).toBeNull();
  });

  it("books this process's busy main thread as main, per run", () => {
    const a = threadCpu(process.pid);
    // Busy for 300 ms of wall time (process CPU time would count other threads too).
    const t0 = performance.now();
    let x = 0;
    while (performance.now() - t0 < 300) x += Math.sqrt(x + 1);
    const b = threadCpu(process.pid);
    expect(x).toBeGreaterThan(0);
    const per = cpuPerRun(a, b, 2);
    // The main thread got at least part of those 300 ms (a loaded machine may give it less), and never more.
    expect(per.main).toBeGreaterThan(0);
    expect(per.main * 2).toBeLessThanOrEqual(0.3 + 0.02);
    expect(per.driver).toBe(0); // no driver threads in a CPU test
  });
});
