// The browser app, as users get it: built with Vite, served by `vite preview`, opened in headless
// Chromium (WebGPU on SwiftShader). Runs a tiny sweep and checks the chart, the table and both
// downloads; saves a screenshot (and the downloads) under test-artifacts/.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { taskId } from '../../src/sweep/grid.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/browser.ts';
import { externalize } from '../helpers/external-data.ts';
import { IN_CI } from '../helpers/gpu.ts';
import { randomArray } from '../helpers/random.ts';
import { hookOf, setField, text, visible, waitForDownload } from '../helpers/app-page.ts';

const ARTIFACTS = 'test-artifacts';
const SHIPPED_MLP = 'models/mlp.onnx';

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (IN_CI) throw new Error(`CI=true but ${CHROMIUM} is missing: install Debian's chromium`);
  console.warn(`SKIP browser app suite: ${CHROMIUM} not found`);
}

let work = '';
let server: PreviewServer | undefined;
let browser: Browser | undefined;
let baseUrl = '';

beforeAll(async () => {
  if (!hasChromium) return;
  work = mkdtempSync(join(tmpdir(), 'xbarsim-app-'));
  const outDir = join(work, 'dist');
  await build({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  server = await preview({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, open: false } });
  const addr = server.httpServer.address();
  if (!addr || typeof addr === 'string') throw new Error('vite preview has no port');
  baseUrl = `http://127.0.0.1:${addr.port}`;
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, userDataDir: join(work, 'chromium') });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A random-weight 784 → 32 → 10 MLP: stands in for models/mlp.onnx where it was not trained yet. */
function standInMlp(path: string): void {
  const bytes = buildOnnxModel({
    inputs: [{ name: 'input', dims: ['batch', 784] }],
    outputs: [{ name: 'output', dims: ['batch', 10] }],
    initializers: [
      { name: 'w1', dims: [784, 32], data: randomArray(784 * 32, 1, -0.1, 0.1) },
      { name: 'b1', dims: [32], data: randomArray(32, 2, -0.1, 0.1) },
      { name: 'w2', dims: [32, 10], data: randomArray(320, 3, -0.5, 0.5) },
      { name: 'b2', dims: [10], data: randomArray(10, 4, -0.1, 0.1) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['input', 'w1'], outputs: ['h'], name: 'fc1' },
      { op: 'Add', inputs: ['h', 'b1'], outputs: ['h1'], name: 'fc1.bias' },
      { op: 'Relu', inputs: ['h1'], outputs: ['h2'], name: 'relu' },
      { op: 'MatMul', inputs: ['h2', 'w2'], outputs: ['o'], name: 'fc2' },
      { op: 'Add', inputs: ['o', 'b2'], outputs: ['output'], name: 'fc2.bias' },
    ],
  });
  writeFileSync(path, bytes);
}

describe.skipIf(!hasChromium)('browser app (built with Vite, headless Chromium, WebGPU)', () => {
  it('runs a tiny sweep on WebGPU, draws 2 points per preset, and downloads JSONL and CSV', async () => {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') console.log(`[chromium ${m.type()}] ${m.text()}`);
    });
    const downloads = join(work, 'downloads');
    mkdirSync(downloads);
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    mkdirSync(ARTIFACTS, { recursive: true });
    const t0 = Date.now();

    try {
      await page.goto(`${baseUrl}/web/index.html`, { waitUntil: 'load' });
      const shipped = existsSync(SHIPPED_MLP);
      if (!shipped) {
        if (IN_CI) throw new Error(`CI=true but ${SHIPPED_MLP} is missing: the app must offer the shipped MLP`);
        console.warn(`${SHIPPED_MLP} missing: using a random-weight stand-in dropped as a file`);
      }
      // A file that is not ONNX: the import error shows on one line and the app stays usable.
      const bad = join(work, 'bad.onnx');
      writeFileSync(bad, 'this is not an ONNX model');
      const fileInput = await page.$('input[data-testid="model-file"]');
      await fileInput!.uploadFile(bad);
      await page.waitForFunction(() => !(document.querySelector('[data-testid="model-error"]') as HTMLElement).hidden, { timeout: 20_000 });
      const modelError = await text(page, 'model-error');
      expect(modelError).toContain('bad.onnx');
      expect(modelError).not.toContain('\n');
      if (shipped) {
        expect(await page.$eval('[data-testid="model-select"]', (e) => (e as HTMLSelectElement).value)).toBe('mlp.onnx');
      } else {
        const standIn = join(work, 'stand-in-mlp.onnx');
        standInMlp(standIn);
        await fileInput!.uploadFile(standIn);
      }
      await page.waitForFunction(() => window.__xbarsim.ready, { timeout: 60_000 });
      // The bad file's error stays up beside the model still in use; a good file clears it.
      expect(await text(page, 'model-status')).toMatch(shipped ? /^mlp\.onnx: / : /^stand-in-mlp\.onnx: /);
      expect(await visible(page, 'model-error')).toBe(shipped);
      const adapter = (await hookOf(page)).adapter;
      console.log(`app adapter: ${adapter}; model: ${await text(page, 'model-status')}`);
      expect(adapter).toMatch(/^webgpu: /);
      expect(await text(page, 'adapter')).toBe(adapter);

      // Default presets are isaac and neural-pim.
      const checked = await page.$$eval('[data-testid^="preset-"]', (boxes) => boxes.filter((b) => (b as HTMLInputElement).checked).map((b) => (b as HTMLInputElement).value));
      expect(checked).toEqual(['isaac', 'neural-pim']);

      // A bad override is reported on one line and blocks Run; fixing it unblocks.
      await setField(page, 'overrides', '{"adc": {"bits": 1}}');
      expect(await visible(page, 'config-error')).toBe(true);
      expect(await text(page, 'config-error')).toContain('adc.bits');
      expect(await page.$eval('[data-testid="run"]', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
      // A valid override: fewer calibration images keep the run short on SwiftShader (calibration dominates).
      await setField(page, 'overrides', '{"calibration": {"samples": 32}}');

      // The tiny sweep: 2 presets × 2 programming-noise values × 1 chip × 20 digits.
      await setField(page, 'chips', '1');
      await setField(page, 'digits', '20');
      await setField(page, 'vary-path', 'noise.programming.sigma');
      await setField(page, 'vary-start', '0');
      await setField(page, 'vary-stop', '0.1');
      await setField(page, 'vary-count', '2');
      await setField(page, 'seed', '7');
      expect(await visible(page, 'config-error')).toBe(false);
      expect(await text(page, 'plan-summary')).toContain('= 4 evaluations of 20 digits');
      await page.click('[data-testid="run"]');
      await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(window.__xbarsim.state), { timeout: 150_000, polling: 250 });
      const hook = await hookOf(page);
      console.log(`sweep finished in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${await text(page, 'progress')}`);
      expect(hook.error).toBeUndefined();
      expect(hook.state).toBe('done');
      expect(hook.done).toBe(4);
      expect(hook.points).toBe(4);

      // The chart: data-points says what was handed to Vega; the SVG says what was drawn.
      expect(await page.$eval('[data-testid="chart"]', (e) => (e as HTMLElement).dataset.points)).toBe('4');
      const symbols = await page.$$eval('[data-testid="chart"] svg g.points_marks > path', (ps) => ps.map((p) => p.getAttribute('aria-label') ?? ''));
      expect(symbols).toHaveLength(4);
      expect(symbols.filter((l) => l.includes('preset: isaac;'))).toHaveLength(2);
      expect(symbols.filter((l) => l.includes('preset: neural-pim;'))).toHaveLength(2);
      const lines = await page.$$eval('[data-testid="chart"] svg g.mark-line path', (ps) => ps.length);
      expect(lines).toBe(2);
      expect(await page.$$eval('[data-testid="results-table"] tbody tr', (rs) => rs.length)).toBe(4);
      // Accuracy against energy per inference (the cost model's): one symbol per point.
      const energySymbols = await page.$$eval('[data-testid="energy-chart"] svg g.points_marks > path', (ps) => ps.map((p) => p.getAttribute('aria-label') ?? ''));
      expect(energySymbols).toHaveLength(4);
      expect(energySymbols.filter((l) => l.includes('preset: neural-pim;'))).toHaveLength(2);

      // Downloads: the CLI's results.jsonl lines (ids as `xbarsim sweep` computes them) and a CSV.
      await page.click('[data-testid="download-jsonl"]');
      const jsonlPath = await waitForDownload(downloads, '.jsonl');
      await page.click('[data-testid="download-csv"]');
      const csvPath = await waitForDownload(downloads, '.csv');
      copyFileSync(jsonlPath, join(ARTIFACTS, 'app-results.jsonl'));
      copyFileSync(csvPath, join(ARTIFACTS, 'app-results.csv'));
      const results = readFileSync(jsonlPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(results).toHaveLength(4);
      for (const r of results) {
        expect(Object.keys(r)).toEqual(expect.arrayContaining(['id', 'preset', 'point', 'chip', 'seed', 'accuracy', 'correct', 'total', 'counts', 'seconds', 'adapter', 'config']));
        expect(r.id).toBe(taskId(r.preset as string, r.point as Record<string, number>, r.chip as number));
        expect(r.total).toBe(20);
        expect(r.seed).toBe(7);
        expect((r.config as { calibration: { samples: number } }).calibration.samples).toBe(32);
        expect(r.adapter).toBe(adapter);
        expect((r.counts as { total: { adcConversions: number } }).total.adcConversions).toBeGreaterThan(0);
        expect((r.cost as { energyPerInference_J: number; topsPerWatt: number }).energyPerInference_J).toBeGreaterThan(0);
      }
      expect(results.map((r) => `${String(r.preset)} ${JSON.stringify(r.point)}`).sort()).toEqual([
        'isaac {"noise.programming.sigma":0.1}',
        'isaac {"noise.programming.sigma":0}',
        'neural-pim {"noise.programming.sigma":0.1}',
        'neural-pim {"noise.programming.sigma":0}',
      ]);
      const csv = readFileSync(csvPath, 'utf8').trimEnd().split('\n');
      expect(csv[0]).toMatch(/^id,preset,noise\.programming\.sigma,chip,seed,accuracy,correct,total,seconds,adapter,adc_conversions,/);
      expect(csv).toHaveLength(5);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.screenshot({ path: join(ARTIFACTS, 'app.png'), fullPage: true });
      console.log(`browser app test: ${((Date.now() - t0) / 1000).toFixed(1)} s in the page; screenshot ${ARTIFACTS}/app.png`);
      await page.close();
    }
  }, 240_000);

  it('loads a model whose weights are in an external data file when both are picked, and says which file is missing otherwise', async () => {
    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    try {
      await page.goto(`${baseUrl}/web/index.html`, { waitUntil: 'load' });
      const source = join(work, 'ext-source.onnx');
      standInMlp(source);
      const { model, data } = externalize(new Uint8Array(readFileSync(source)), 'ext-mlp.onnx.data');
      const modelPath = join(work, 'ext-mlp.onnx');
      const dataPath = join(work, 'ext-mlp.onnx.data');
      writeFileSync(modelPath, model);
      writeFileSync(dataPath, data);
      const fileInput = await page.$('input[data-testid="model-file"]');
      await fileInput!.uploadFile(modelPath);
      await page.waitForFunction(() => !(document.querySelector('[data-testid="model-error"]') as HTMLElement).hidden, { timeout: 20_000 });
      expect(await text(page, 'model-error')).toMatch(/^ext-mlp\.onnx: tensor "w1" keeps its data in "ext-mlp\.onnx\.data", which cannot be read \(pick ext-mlp\.onnx\.data together with ext-mlp\.onnx\)$/);
      await fileInput!.uploadFile(modelPath, dataPath);
      await page.waitForFunction(() => /^ext-mlp\.onnx: /.test((document.querySelector('[data-testid="model-status"]') as HTMLElement).textContent ?? ''), { timeout: 20_000 });
      expect(await visible(page, 'model-error')).toBe(false);
      expect(await text(page, 'model-status')).toMatch(/^ext-mlp\.onnx: input \[784\], 3 ops, 2 on crossbars/);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);
});
