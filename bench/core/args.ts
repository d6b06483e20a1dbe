// Command-line flags shared by both runners (Node side only).
import { parseArgs } from 'node:util';
import { QUICK_IMAGES, tilingNames, type SuiteOptions } from './suite.ts';

export interface BenchArgs extends SuiteOptions {
  /** Folder for the JSON record (default bench/results). */
  out: string | null;
}

function fail(usage: string, msg: string): never {
  process.stderr.write(`bench: ${msg} (usage: ${usage} [--quick] [--runs N>=5] [--only REGEX] [--read-sigma S>=0] [--images N>=1] [--out DIR] [--retune] [--tiles NAME])\n`);
  process.exit(2);
}

/** Parses the runners' flags; bad input is one line on stderr and exit 2. */
export function parseBenchArgs(argv: string[], usage: string): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        runs: { type: 'string', default: '5' },
        only: { type: 'string' },
        'read-sigma': { type: 'string', default: '0.02' },
        images: { type: 'string' },
        out: { type: 'string' },
        retune: { type: 'boolean', default: false },
        tiles: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail(usage, e instanceof Error ? e.message : String(e));
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 5 || runs > 100) fail(usage, `--runs ${values.runs}: an integer from 5 to 100 (median and spread need at least 5)`);
  // --quick's batch is small enough for the whole suite to finish in about 2 minutes on a 2-core CPU driver.
  const images = values.images === undefined ? (values.quick ? QUICK_IMAGES : 256) : Number(values.images);
  if (!Number.isInteger(images) || images < 1 || images > 4096) fail(usage, `--images ${values.images}: an integer from 1 to 4096`);
  const readSigma = Number(values['read-sigma']);
  if (!Number.isFinite(readSigma) || readSigma < 0) fail(usage, `--read-sigma ${values['read-sigma']}: a number >= 0`);
  let only: RegExp | null = null;
  if (values.only !== undefined) {
    try {
      only = new RegExp(values.only);
    } catch {
      fail(usage, `--only ${values.only}: not a regular expression`);
    }
  }
  const tiles = values.tiles ?? null;
  if (tiles !== null && !tilingNames().includes(tiles)) fail(usage, `--tiles ${tiles}: one of ${tilingNames().map((n) => `"${n}"`).join(', ')}`);
  if (tiles !== null && values.retune) fail(usage, '--tiles and --retune: give one (--tiles skips tuning)');
  return { quick: values.quick, runs, only, readSigma, images, out: values.out ?? null, retune: values.retune, tiles };
}
