// npm run bench:browser [-- --quick] [--runs N] [--only REGEX] [--read-sigma S] [--images N] [--out DIR] [--retune | --tiles NAME]
// The benchmark suite in headless Chromium (WebGPU on SwiftShader, the flags of the browser tests):
// builds bench/page with Vite, serves it on loopback, runs the suite in the page and takes the record
// back into Node, which prints the tables and writes the JSON to bench/results/. Cold evals are fresh
// browser processes (one shared profile, so disk caches are warm after the warm-up, as for a user who
// comes back), timed in the page from navigation start to the last result.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { build, preview } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/helpers/browser.ts';
import { parseBenchArgs } from './core/args.ts';
import { markdownReport } from './core/report.ts';
import { suiteOptionsToJson, type BenchRun } from './core/suite.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The page reports back only when the suite is done: give the DevTools protocol all the time it needs. */
const PROTOCOL_TIMEOUT_MS = 4 * 3600_000;

const opts = parseBenchArgs(process.argv.slice(2), 'npm run bench:browser --');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), 'xbarsim-bench-browser-'));
const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function launch(profile: string): Promise<Browser> {
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, userDataDir: profile, protocolTimeout: PROTOCOL_TIMEOUT_MS });
}

function forwardConsole(page: Page, tag: string): void {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') log(`[${tag}] ${m.text()}`);
  });
  page.on('pageerror', (e) => log(`[${tag}] page error: ${e instanceof Error ? e.message : String(e)}`));
}

let server: Awaited<ReturnType<typeof preview>> | undefined;
let browser: Browser | undefined;
try {
  const outDir = join(work, 'dist');
  log('building bench/page with vite');
  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 8000, rollupOptions: { input: { bench: join(ROOT, 'bench/page/index.html') } } },
  });
  server = await preview({ configFile: false, root: ROOT, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, open: false } });
  const addr = server.httpServer.address();
  if (!addr || typeof addr === 'string') throw new Error('vite preview has no port');
  const base = `http://127.0.0.1:${addr.port}/bench/page/index.html`;

  const coldProfile = join(work, 'cold-profile');
  const coldOnce = async (spec: string): Promise<number> => {
    const b = await launch(coldProfile);
    try {
      const page = await b.newPage();
      forwardConsole(page, 'cold');
      await page.goto(`${base}?mode=cold&spec=${encodeURIComponent(spec)}`, { waitUntil: 'load' });
      await page.waitForFunction(() => window.__benchCold !== undefined);
      return await page.evaluate(() => window.__benchCold!);
    } finally {
      await b.close();
    }
  };

  browser = await launch(join(work, 'profile'));
  const page = await browser.newPage();
  forwardConsole(page, 'suite');
  await page.exposeFunction('__benchLog', (line: string) => log(line));
  await page.exposeFunction('__benchColdEval', async (spec: string, runs: number) => {
    await coldOnce(spec); // warm-up: disk and shader caches of the cold profile
    const out: number[] = [];
    for (let i = 0; i < runs; i++) out.push(await coldOnce(spec));
    return out;
  });
  const browserVersion = await browser.version();
  await page.goto(`${base}?mode=suite&version=${encodeURIComponent(version)}&opts=${encodeURIComponent(suiteOptionsToJson(opts))}`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__benchRun !== undefined);
  const run: BenchRun = await page.evaluate(() => window.__benchRun!);
  run.versions = { ...run.versions, chromium: browserVersion };
  const dir = opts.out ?? join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${run.startedAt.replace(/[:.]/g, '-')}-browser${opts.quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  process.stdout.write(`${markdownReport(run)}\n\nrecord: ${file}\n`);
} finally {
  await browser?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
}
