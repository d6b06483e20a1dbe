// Test-only entry point of the ONNX fuzz test: runs the property in its own process so that the test
// can bound it in time and name the case that hangs (each case is announced on stderr before it runs).
// Run: node --import ./bin/register.js test/helpers/onnx-fuzz-child.ts SEED RUNS CASE_LIMIT_MS
// Prints one JSON line on stdout: { runs, outcomes, failed, report }.
import fc from 'fast-check';
import { checkBytes, fuzzCase, fuzzSeeds, mutate, type FuzzOutcome } from './onnx-fuzz.ts';

const [seed, runs, caseLimitMs] = process.argv.slice(2).map(Number);
const seeds = fuzzSeeds();
const outcomes: Record<FuzzOutcome, number> = { ran: 0, imported: 0, refused: 0 };
let index = 0;

const property = fc.asyncProperty(fuzzCase(seeds.length), async (c) => {
  process.stderr.write(`case ${index++}: ${seeds[c.seed].name} ${c.kind}\n`);
  const t0 = performance.now();
  const outcome = await checkBytes(mutate(seeds[c.seed].bytes, c));
  const ms = performance.now() - t0;
  // A hang bound, not a speed check: the slowest legitimate case (a 2^26-element fold) takes well under it.
  if (ms > caseLimitMs) throw new Error(`case took ${Math.round(ms)} ms, over the ${caseLimitMs} ms bound`);
  outcomes[outcome]++;
});

const details = await fc.check(property, { seed, numRuns: runs });
process.stdout.write(`${JSON.stringify({ runs: details.numRuns, outcomes, failed: details.failed, report: details.failed ? `${fc.defaultReportMessage(details)}\nError: ${details.errorInstance instanceof Error ? details.errorInstance.stack : String(details.errorInstance)}` : null })}\n`);
