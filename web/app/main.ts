// The browser app: pick a model and presets, edit the sweep, run it on navigator.gpu, watch the
// chart fill in, download the results. Everything runs and stays in this page.
import { configPaths } from '../../src/config/schema.ts';
import { PRESET_NAMES } from '../../src/config/presets.ts';
import { messageOf } from '../../src/errors.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { openBrowserGpu } from '../../src/gpu/browser-gpu.ts';
import { GpuRuntime } from '../../src/gpu/runtime.ts';
import { isMatrixOp } from '../../src/ir/graph.ts';
import type { ResultLine } from '../../src/sweep/results.ts';
import { pathKind } from '../../src/sweep/spec.ts';
import { LiveChart } from './chart.ts';
import { loadMnistBrowser } from './mnist-browser.ts';
import { loadModelFile, loadShippedModel, shippedModels, type LoadedModel } from './models.ts';
import { backendText, planSweep, resultsCsv, resultsJsonl, runSweep, summarize, type SummaryRow, type SweepForm, type SweepPlan } from './sweep.ts';

/** What a test (or a curious user) can read off `window.__xbarsim`. */
export interface AppHook {
  /** True once the backend and a model are ready and Run can be pressed. */
  ready: boolean;
  state: 'idle' | 'running' | 'done' | 'stopped' | 'error';
  /** Points handed to the chart: grid points with at least one finished chip. */
  points: number;
  /** Finished (point, chip) evaluations, and how many the run has in all. */
  done: number;
  total: number;
  adapter: string;
  error?: string;
}

declare global {
  interface Window {
    __xbarsim: AppHook;
  }
}

const DEFAULT_PRESETS = new Set(['isaac', 'neural-pim']);
const DEFAULT_PATH = 'noise.programming.sigma';
const FILE_OPTION = 'file:';

const hook: AppHook = { ready: false, state: 'idle', points: 0, done: 0, total: 0, adapter: '' };
window.__xbarsim = hook;

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`index.html has no #${id}`);
  return e as T;
}

const ui = {
  form: el<HTMLFormElement>('form'),
  adapter: el<HTMLSpanElement>('adapter'),
  modelSelect: el<HTMLSelectElement>('model-select'),
  modelFile: el<HTMLInputElement>('model-file'),
  drop: el<HTMLDivElement>('drop'),
  modelStatus: el<HTMLParagraphElement>('model-status'),
  modelError: el<HTMLParagraphElement>('model-error'),
  dataStatus: el<HTMLParagraphElement>('data-status'),
  presets: el<HTMLDivElement>('presets'),
  chips: el<HTMLInputElement>('chips'),
  digits: el<HTMLInputElement>('digits'),
  seed: el<HTMLInputElement>('seed'),
  path: el<HTMLSelectElement>('vary-path'),
  start: el<HTMLInputElement>('vary-start'),
  stop: el<HTMLInputElement>('vary-stop'),
  count: el<HTMLInputElement>('vary-count'),
  log: el<HTMLInputElement>('vary-log'),
  list: el<HTMLInputElement>('vary-list'),
  overrides: el<HTMLTextAreaElement>('overrides'),
  configError: el<HTMLParagraphElement>('config-error'),
  planSummary: el<HTMLParagraphElement>('plan-summary'),
  run: el<HTMLButtonElement>('run'),
  stopButton: el<HTMLButtonElement>('stop'),
  progress: el<HTMLSpanElement>('progress'),
  runError: el<HTMLParagraphElement>('run-error'),
  chart: el<HTMLDivElement>('chart'),
  jsonl: el<HTMLButtonElement>('download-jsonl'),
  csv: el<HTMLButtonElement>('download-csv'),
  valueHeader: el<HTMLTableCellElement>('value-header'),
  tbody: el<HTMLTableElement>('results-table').tBodies[0],
};

let backend: Backend | null = null;
let model: LoadedModel | null = null;
/** Bumped on each model change, so a slow load that finishes late does not replace a newer choice. */
let modelRequest = 0;
let running = false;
let stopRequested = false;
let lines: ResultLine[] = [];
/** The plan and model of the results on screen (the form may have changed since). */
let lastPlan: SweepPlan | null = null;
let lastModelLabel = 'model';
let chart: LiveChart | null = null;

function showError(p: HTMLElement, message: string | null): void {
  p.hidden = message === null;
  // One line: the full text stays available as the tooltip.
  p.textContent = message ?? '';
  p.title = message ?? '';
}

// ------------------------------------------------------------------------------------------
// Form
// ------------------------------------------------------------------------------------------

function buildForm(): void {
  for (const m of shippedModels()) ui.modelSelect.add(new Option(m.title, m.file));
  if (ui.modelSelect.options.length === 0) ui.modelSelect.add(new Option('(no shipped model: drop an .onnx file)', ''));
  for (const name of PRESET_NAMES) {
    const label = document.createElement('label');
    label.className = 'check';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = name;
    box.checked = DEFAULT_PRESETS.has(name);
    box.dataset.testid = `preset-${name}`;
    label.append(box, ` ${name}`);
    ui.presets.append(label);
  }
  for (const p of configPaths()) ui.path.add(new Option(p, p, p === DEFAULT_PATH, p === DEFAULT_PATH));
}

function readForm(): SweepForm {
  const presets = [...ui.presets.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].filter((b) => b.checked).map((b) => b.value);
  const list = ui.list.value.trim();
  const range = `${ui.log.checked ? 'log:' : ''}${ui.start.value.trim()}:${ui.stop.value.trim()}:${ui.count.value.trim()}`;
  return {
    presets,
    chips: ui.chips.valueAsNumber,
    digits: ui.digits.valueAsNumber,
    path: ui.path.value,
    spec: list !== '' ? list : range,
    seed: ui.seed.valueAsNumber,
    overrides: ui.overrides.value,
  };
}

/** True when the varied path takes names or booleans, which cannot be ranged. */
function listOnly(): boolean {
  const kind = pathKind(ui.path.value, 'varied').kind;
  return kind === 'enum' || kind === 'boolean';
}

/** A new path: names and booleans get all their values as the list, numbers start from a range. */
function onPathChange(): void {
  const kind = pathKind(ui.path.value, 'varied');
  if (kind.kind === 'enum') ui.list.value = kind.options.join(', ');
  else if (kind.kind === 'boolean') ui.list.value = 'false, true';
  else ui.list.value = '';
  for (const i of [ui.start, ui.stop, ui.count, ui.log]) i.disabled = listOnly();
  validate();
}

/** Checks the form; shows the one-line problem or the size of the run. Returns the plan if valid. */
function validate(): SweepPlan | null {
  // A list replaces the range: show the range as unused rather than silently ignoring it.
  for (const i of [ui.start, ui.stop, ui.count]) i.classList.toggle('unused', ui.list.value.trim() !== '');
  try {
    const plan = planSweep(readForm());
    showError(ui.configError, null);
    const evals = plan.points.length * plan.chips;
    ui.planSummary.textContent = `${plan.series.length} preset${plan.series.length > 1 ? 's' : ''} × ${plan.vary.values.length} value${plan.vary.values.length > 1 ? 's' : ''} × ${plan.chips} chip${plan.chips > 1 ? 's' : ''} = ${evals} evaluations of ${plan.digits} digits`;
    updateRunButton(true);
    return plan;
  } catch (e) {
    showError(ui.configError, messageOf(e));
    ui.planSummary.textContent = '';
    updateRunButton(false);
    return null;
  }
}

function updateRunButton(formValid: boolean): void {
  const ready = backend !== null && model !== null;
  hook.ready = ready && !running;
  ui.run.disabled = !ready || running || !formValid;
  ui.stopButton.disabled = !running;
}

function setFormEnabled(on: boolean): void {
  for (const e of ui.form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input, select, textarea')) e.disabled = !on;
  if (on) for (const i of [ui.start, ui.stop, ui.count, ui.log]) i.disabled = listOnly();
  validate();
}

// ------------------------------------------------------------------------------------------
// Model
// ------------------------------------------------------------------------------------------

function describe(m: LoadedModel): string {
  const crossbar = m.net.ops.filter(isMatrixOp).length;
  return `${m.label}: input [${m.net.input.shape.join(', ')}], ${m.net.ops.length} ops, ${crossbar} on crossbars`;
}

/** Dropped files by picker value: kept in memory, so switching back needs no re-drop. */
const droppedModels = new Map<string, LoadedModel>();

function setModel(m: LoadedModel): void {
  model = m;
  ui.modelStatus.textContent = describe(m);
}

/**
 * Loads a model; the newest request wins (a slow load finishing late is dropped). On failure the
 * one-line error shows, the previous model stays, and `onFail` puts the picker back.
 */
async function useModel(load: () => Promise<LoadedModel>, clearError: boolean, onFail?: () => void): Promise<void> {
  const request = ++modelRequest;
  if (clearError) showError(ui.modelError, null);
  ui.modelStatus.textContent = 'loading model…';
  try {
    const m = await load();
    if (request === modelRequest) setModel(m);
  } catch (e) {
    if (request !== modelRequest) return;
    showError(ui.modelError, messageOf(e));
    ui.modelStatus.textContent = model ? describe(model) : 'no model loaded';
    onFail?.();
  } finally {
    validate();
  }
}

/** Makes the picker's current entry the model: a shipped file (fetched) or a dropped one. */
function activateSelected(clearError = true): void {
  const value = ui.modelSelect.value;
  const dropped = droppedModels.get(value);
  if (dropped) {
    ++modelRequest;
    if (clearError) showError(ui.modelError, null);
    setModel(dropped);
    validate();
    return;
  }
  const shipped = shippedModels().find((m) => m.file === value);
  if (shipped) void useModel(() => loadShippedModel(shipped), clearError);
}

function optionValue(m: LoadedModel): string {
  return droppedModels.has(`${FILE_OPTION}${m.label}`) ? `${FILE_OPTION}${m.label}` : m.label;
}

function onFile(file: File): void {
  const previous = ui.modelSelect.value;
  void useModel(
    async () => {
      const m = await loadModelFile(file);
      const value = `${FILE_OPTION}${m.label}`;
      if (![...ui.modelSelect.options].some((o) => o.value === value)) ui.modelSelect.add(new Option(`${m.label} (your file)`, value));
      droppedModels.set(value, m);
      ui.modelSelect.value = value;
      return m;
    },
    true,
    () => {
      // The bad file may have superseded a load still under way: make the picker's entry current again.
      ui.modelSelect.value = previous;
      if (!model || optionValue(model) !== previous) activateSelected(false);
    },
  );
}

function wireModelInputs(): void {
  ui.modelSelect.addEventListener('change', () => activateSelected());
  ui.modelFile.addEventListener('change', () => {
    const f = ui.modelFile.files?.[0];
    if (f) onFile(f);
    ui.modelFile.value = '';
  });
  ui.drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f && !running) onFile(f);
  });
}

// ------------------------------------------------------------------------------------------
// Running
// ------------------------------------------------------------------------------------------

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

function renderTable(rows: readonly SummaryRow[], plan: SweepPlan): void {
  const order = new Map(plan.series.map((s, i) => [s, i]));
  const sorted = [...rows].sort((a, b) => (order.get(a.preset) ?? 0) - (order.get(b.preset) ?? 0) || a.pointIndex - b.pointIndex);
  ui.valueHeader.textContent = plan.vary.path;
  ui.tbody.replaceChildren(
    ...sorted.map((r) => {
      const tr = document.createElement('tr');
      const ci = r.lo === null || r.hi === null ? '—' : `${pct(r.lo)} – ${pct(r.hi)}`;
      for (const text of [r.preset, typeof r.x === 'number' ? String(Number(r.x.toPrecision(4))) : String(r.x), String(r.chips), pct(r.mean), ci, Math.round(r.adcPerInference).toLocaleString('en-US'), r.seconds.toFixed(2)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
}

async function onResult(line: ResultLine, plan: SweepPlan): Promise<void> {
  lines.push(line);
  const rows = summarize(plan, lines);
  hook.done = lines.length;
  await chart?.update(rows);
  hook.points = rows.length;
  renderTable(rows, plan);
  ui.jsonl.disabled = ui.csv.disabled = false;
}

async function run(): Promise<void> {
  const plan = validate();
  if (!plan || !model || !backend || running) return;
  running = true;
  stopRequested = false;
  lines = [];
  lastPlan = plan;
  lastModelLabel = model.label;
  Object.assign(hook, { state: 'running', points: 0, done: 0, total: plan.points.length * plan.chips });
  delete hook.error;
  showError(ui.runError, null);
  setFormEnabled(false);
  updateRunButton(false);
  ui.jsonl.disabled = ui.csv.disabled = true;
  ui.tbody.replaceChildren();
  chart?.destroy();
  const t0 = performance.now();
  const m = model;
  try {
    chart = new LiveChart(ui.chart, { path: plan.vary.path, scale: plan.vary.scale, values: plan.vary.values });
    await chart.update([]);
    const outcome = await runSweep(plan, m, backend, {
      onResult: (line) => onResult(line, plan),
      onProgress: (text) => (ui.progress.textContent = text),
      shouldStop: () => stopRequested,
    });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    ui.progress.textContent = `${outcome === 'done' ? 'done' : 'stopped'}: ${lines.length}/${hook.total} evaluations of ${m.label} in ${secs} s`;
    hook.state = outcome;
  } catch (e) {
    const msg = messageOf(e);
    hook.state = 'error';
    hook.error = msg;
    showError(ui.runError, `run failed: ${msg}`);
    ui.progress.textContent = `failed after ${lines.length}/${hook.total} evaluations`;
  } finally {
    running = false;
    setFormEnabled(true);
  }
}

function download(text: string, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own reference once started; the URL is only needed for the click.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function fileStem(): string {
  return `xbarsim-${lastModelLabel.replace(/\.onnx$/i, '')}-${lastPlan?.vary.path ?? 'sweep'}`;
}

// ------------------------------------------------------------------------------------------
// Start-up
// ------------------------------------------------------------------------------------------

async function openBackend(): Promise<Backend> {
  const runtime = new GpuRuntime(() => openBrowserGpu((line) => console.warn(line)));
  const session = await runtime.session();
  if (session) return { kind: 'webgpu', runtime, session };
  return { kind: 'cpu', reason: 'this browser has no WebGPU adapter; using the CPU reference, slowly' };
}

function start(): void {
  buildForm();
  wireModelInputs();
  ui.form.addEventListener('input', () => validate());
  ui.form.addEventListener('change', () => validate());
  ui.path.addEventListener('change', onPathChange);
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  ui.stopButton.addEventListener('click', () => {
    stopRequested = true;
    ui.stopButton.disabled = true;
    ui.progress.textContent = 'stopping after the current batch…';
  });
  ui.jsonl.addEventListener('click', () => download(resultsJsonl(lines), `${fileStem()}.jsonl`, 'application/x-ndjson'));
  ui.csv.addEventListener('click', () => lastPlan && download(resultsCsv(lastPlan.vary.path, lines), `${fileStem()}.csv`, 'text/csv'));
  onPathChange();

  void openBackend()
    // An adapter that refuses a device still leaves the CPU reference, announced as such.
    .catch((e: unknown): Backend => ({ kind: 'cpu', reason: `WebGPU failed (${messageOf(e)}); using the CPU reference, slowly` }))
    .then((b) => {
      backend = b;
      hook.adapter = backendText(b);
      ui.adapter.textContent = hook.adapter;
      ui.adapter.classList.toggle('warn', b.kind === 'cpu');
      validate();
    });

  activateSelected();

  // The digits are 21 MB of JSON: fetch them while the user edits the form, not when Run is pressed.
  ui.dataStatus.textContent = 'MNIST: loading…';
  void loadMnistBrowser()
    .then((s) => (ui.dataStatus.textContent = `MNIST: ${s.test.n.toLocaleString('en-US')} test digits, ${s.train.n.toLocaleString('en-US')} for calibration (the CLI's split)`))
    .catch((e: unknown) => (ui.dataStatus.textContent = `MNIST: could not load (${messageOf(e)}); Run retries`));
}

start();
