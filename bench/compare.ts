// npm run bench:compare -- A.json B.json: the figures two suite records have in common, side by side
// with their ratio B/A (e.g. the Node and the browser runner on the same adapter type). Figures are
// medians; a ratio within 0.8–1.25 is "within 25%".
import { readFileSync } from 'node:fs';
import type { BenchRun, CaseResult } from './core/suite.ts';

function load(path: string): BenchRun {
  try {
    const run = JSON.parse(readFileSync(path, 'utf8')) as BenchRun;
    if (run.schema !== 'xbarsim-bench/1') throw new Error(`schema ${String(run.schema)}`);
    return run;
  } catch (e) {
    process.stderr.write(`bench:compare: ${path}: not a bench record (${e instanceof Error ? e.message : String(e)})\n`);
    process.exit(2);
  }
}

/** The headline figure of a case: kernel seconds, network images/s, cold seconds. */
function headline(c: CaseResult): { name: string; value: number } {
  if (c.kind === 'kernel') return { name: 'crossbar kernel s', value: c.xbar.seconds.median };
  if (c.kind === 'network') return { name: 'images/s', value: c.imagesPerSecond.median };
  return { name: 'cold eval s', value: c.seconds.median };
}

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  process.stderr.write('usage: npm run bench:compare -- A.json B.json\n');
  process.exit(2);
}
const A = load(a);
const B = load(b);
const byId = new Map(B.cases.map((c) => [c.id, c]));
const lines = [
  `A: ${A.runner} on ${A.adapter.line} (${A.startedAt}, GPU timing ${A.gpuTiming})`,
  `B: ${B.runner} on ${B.adapter.line} (${B.startedAt}, GPU timing ${B.gpuTiming})`,
  '',
  '| case | figure | A | B | B/A | within 25% |',
  '|---|---|---|---|---|---|',
];
const differing: string[] = [];
for (const ca of A.cases) {
  const cb = byId.get(ca.id);
  if (!cb) continue;
  const ha = headline(ca);
  const hb = headline(cb);
  const r = hb.value / ha.value;
  lines.push(`| ${ca.id} | ${ha.name} | ${ha.value.toPrecision(3)} | ${hb.value.toPrecision(3)} | ${r.toFixed(2)} | ${r >= 0.8 && r <= 1.25 ? 'yes' : 'no'} |`);
  // Each runner tunes its own tiling, and on a loaded machine the two can differ by 1.5x in speed.
  if (ca.kind === 'kernel' && cb.kind === 'kernel' && ca.tiles !== cb.tiles) differing.push(`${ca.id} (A: ${ca.tiles}, B: ${cb.tiles})`);
}
if (differing.length > 0) lines.push('', `Not like for like: the crossbar tilings differ in ${differing.join('; ')}. Rerun both with the same --tiles.`);
process.stdout.write(`${lines.join('\n')}\n`);
