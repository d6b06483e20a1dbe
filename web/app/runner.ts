// Running a sweep from the form: the live chart and table as chips finish, Stop, and the downloads.
import { messageOf } from '../../src/errors.ts';
import { formatInterval } from '../../src/sweep/stats.ts';
import { LiveChart } from './chart.ts';
import { APP_DATASETS } from './dataset-info.ts';
import { evalDataBrowser } from './datasets.ts';
import { showError } from './dom.ts';
import { setFormEnabled, updateRunButton, validate } from './form.ts';
import type { App } from './state.ts';
import { chartRows, resultsCsv, resultsJsonl, runAppSweep, type AppResultLine, type AppSweepPlan, type ChartRow } from './sweep.ts';

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

function renderTable(app: App, rows: readonly ChartRow[], plan: AppSweepPlan): void {
  const { ui } = app;
  const order = new Map(plan.series.map((s, i) => [s, i]));
  const sorted = [...rows].sort((a, b) => (order.get(a.preset) ?? 0) - (order.get(b.preset) ?? 0) || a.pointIndex - b.pointIndex);
  ui.valueHeader.textContent = plan.vary.path;
  ui.tbody.replaceChildren(
    ...sorted.map((r) => {
      const tr = document.createElement('tr');
      const x = typeof r.x === 'number' ? String(Number(r.x.toPrecision(4))) : String(r.x);
      for (const text of [r.preset, x, String(r.chips), pct(r.mean), formatInterval(r.interval, pct), Math.round(r.adcPerInference).toLocaleString('en-US'), r.energyPerInference === null ? '–' : r.energyPerInference.toExponential(3), r.seconds.toFixed(2)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
}

async function onResult(app: App, line: AppResultLine, plan: AppSweepPlan): Promise<void> {
  const { ui, state, hook } = app;
  state.lines.push(line);
  const rows = chartRows(plan, state.lines);
  hook.done = state.lines.length;
  await state.chart?.update(rows);
  await state.energyChart?.update(rows);
  hook.points = rows.length;
  renderTable(app, rows, plan);
  ui.jsonl.disabled = ui.csv.disabled = false;
}

/** Runs the form's sweep on the app's backend, drawing results as they come. */
export async function runFromForm(app: App): Promise<void> {
  const { ui, state, hook } = app;
  const plan = validate(app);
  const model = state.model;
  const backend = state.backend;
  if (!plan || !model || !backend || state.running) return;
  state.running = true;
  state.stopRequested = false;
  state.lines = [];
  state.lastPlan = plan;
  state.lastModelLabel = model.label;
  Object.assign(hook, { state: 'running', points: 0, done: 0, total: plan.points.length * plan.chips, dataset: plan.data.dataset });
  delete hook.error;
  showError(ui.runError, null);
  setFormEnabled(app, false);
  updateRunButton(app, false);
  ui.jsonl.disabled = ui.csv.disabled = true;
  ui.tbody.replaceChildren();
  state.chart?.destroy();
  state.energyChart?.destroy();
  const t0 = performance.now();
  try {
    state.chart = new LiveChart(ui.chart, { path: plan.vary.path, scale: plan.vary.scale, values: plan.vary.values });
    await state.chart.update([]);
    state.energyChart = new LiveChart(ui.energyChart, 'energy');
    await state.energyChart.update([]);
    const outcome = await runAppSweep(plan, model, backend, {
      loadData: (n, calSamples) => evalDataBrowser(plan.data.dataset, n, calSamples),
      onResult: (line) => onResult(app, line, plan),
      onProgress: (text) => (ui.progress.textContent = text),
      shouldStop: () => state.stopRequested,
    });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    ui.progress.textContent = `${outcome === 'done' ? 'done' : 'stopped'}: ${state.lines.length}/${hook.total} evaluations of ${model.label} on ${APP_DATASETS[plan.data.dataset].title} in ${secs} s`;
    hook.state = outcome;
  } catch (e) {
    const msg = messageOf(e);
    hook.state = 'error';
    hook.error = msg;
    showError(ui.runError, `run failed: ${msg}`);
    ui.progress.textContent = `failed after ${state.lines.length}/${hook.total} evaluations`;
  } finally {
    state.running = false;
    setFormEnabled(app, true);
  }
}

/** Asks the running sweep to stop after the current batch. */
export function requestStop(app: App): void {
  app.state.stopRequested = true;
  app.ui.stopButton.disabled = true;
  app.ui.progress.textContent = 'stopping after the current batch…';
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

function fileStem(app: App): string {
  const plan = app.state.lastPlan;
  return `xbarsim-${app.state.lastModelLabel.replace(/\.onnx$/i, '')}-${plan?.data.dataset ?? 'data'}-${plan?.vary.path ?? 'sweep'}`;
}

/** Downloads the results on screen as the CLI's results.jsonl lines. */
export function downloadJsonl(app: App): void {
  download(resultsJsonl(app.state.lines), `${fileStem(app)}.jsonl`, 'application/x-ndjson');
}

/** Downloads the results on screen as CSV, one row per (point, chip). */
export function downloadCsv(app: App): void {
  const plan = app.state.lastPlan;
  if (plan) download(resultsCsv(plan.vary.path, app.state.lines), `${fileStem(app)}.csv`, 'text/csv');
}
