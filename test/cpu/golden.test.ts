import { describe, expect, it } from 'vitest';
import { goldenHashes, maybeUpdateGolden, storedGolden } from '../helpers/golden.ts';

const FILE = 'test/golden/hashes.json';

describe('golden outputs: the CPU reference is bit-identical to the stored hashes', () => {
  it('every vmm and network case', { timeout: 600_000 }, async () => {
    const got = await goldenHashes({ kind: 'cpu', reason: 'test' }, 6, 16);
    if (maybeUpdateGolden(FILE, 'cpu', got)) return;
    expect(got).toEqual(storedGolden(FILE, 'cpu'));
  });
});
