import { expect } from 'vitest';
import { UsageError } from '../../src/errors.ts';

/** The message of the UsageError `fn` throws, checked to be one line (bad input must say so in one line). */
export function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error('expected a UsageError');
}
