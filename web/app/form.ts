// The sweep form: built from the presets and config paths, read into a SweepForm, validated into a
// plan on every edit, and enabled or disabled around a run.
import { configPaths } from '../../src/config/schema.ts';
import { PRESET_NAMES } from '../../src/config/presets.ts';
import { messageOf } from '../../src/errors.ts';
import { pathKind } from '../../src/sweep/spec.ts';
import { showError, type Ui } from './dom.ts';
import { APP_DATASETS, type AppDataset } from './dataset-info.ts';
import { dataChoice } from './datasets.ts';
import { fitProblem, shippedModels } from './models.ts';
import { currentDataset, type App } from './state.ts';
import { planAppSweep, type AppSweepPlan, type SweepForm } from './sweep.ts';

const DEFAULT_PRESETS = new Set(['isaac', 'neural-pim']);
const DEFAULT_PATH = 'noise.programming.sigma';

/** Fills the model picker, the preset boxes and the varied-path list. */
export function buildForm(ui: Ui): void {
  for (const m of shippedModels()) ui.modelSelect.add(new Option(m.title, m.file));
  if (ui.modelSelect.options.length === 0) ui.modelSelect.add(new Option('(no shipped model: drop an .onnx file)', ''));
  for (const o of ui.dataset.options) {
    const missing = dataChoice(o.value as AppDataset);
    if (typeof missing === 'string') {
      o.textContent = `${o.textContent ?? o.value} (not in this build)`;
      o.title = missing;
    }
  }
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

function readForm(ui: Ui): SweepForm {
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
function listOnly(ui: Ui): boolean {
  const kind = pathKind(ui.path.value, 'varied').kind;
  return kind === 'enum' || kind === 'boolean';
}

/** Enables Run when a backend and a model are ready, no run is going, and the form is valid. */
export function updateRunButton(app: App, formValid: boolean): void {
  const { ui, state, hook } = app;
  const ready = state.backend !== null && state.model !== null;
  hook.ready = ready && !state.running;
  ui.run.disabled = !ready || state.running || !formValid;
  ui.stopButton.disabled = !state.running;
}

/**
 * Checks the form against the dataset in use (and the model against the dataset); shows the one-line
 * problem or the size of the run. Returns the plan if valid.
 */
export function validate(app: App): AppSweepPlan | null {
  const { ui, state } = app;
  // A list replaces the range: show the range as unused rather than silently ignoring it.
  for (const i of [ui.start, ui.stop, ui.count]) i.classList.toggle('unused', ui.list.value.trim() !== '');
  const dataset = currentDataset(state);
  try {
    const choice = dataChoice(dataset);
    if (typeof choice === 'string') throw new Error(choice);
    ui.digits.max = String(choice.testImages);
    const plan = planAppSweep(readForm(ui), choice);
    const misfit = state.model ? fitProblem(state.model.net, dataset, state.model.label) : null;
    if (misfit) throw new Error(misfit);
    showError(ui.configError, null);
    const evals = plan.points.length * plan.chips;
    const s = (n: number): string => (n > 1 ? 's' : '');
    ui.planSummary.textContent = `${plan.series.length} preset${s(plan.series.length)} × ${plan.vary.values.length} value${s(plan.vary.values.length)} × ${plan.chips} chip${s(plan.chips)} = ${evals} evaluations of ${plan.digits} ${APP_DATASETS[dataset].noun}`;
    updateRunButton(app, true);
    return plan;
  } catch (e) {
    showError(ui.configError, messageOf(e));
    ui.planSummary.textContent = '';
    updateRunButton(app, false);
    return null;
  }
}

/** A new path: names and booleans get all their values as the list, numbers start from a range. */
export function onPathChange(app: App): void {
  const { ui } = app;
  const kind = pathKind(ui.path.value, 'varied');
  if (kind.kind === 'enum') ui.list.value = kind.options.join(', ');
  else if (kind.kind === 'boolean') ui.list.value = 'false, true';
  else ui.list.value = '';
  for (const i of [ui.start, ui.stop, ui.count, ui.log]) i.disabled = listOnly(ui);
  validate(app);
}

/** Enables or disables every control of the form (during a run), then revalidates. */
export function setFormEnabled(app: App, on: boolean): void {
  const { ui } = app;
  for (const e of ui.form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input, select, textarea')) e.disabled = !on;
  if (on) for (const i of [ui.start, ui.stop, ui.count, ui.log]) i.disabled = listOnly(ui);
  // A shipped model brings its dataset; only the user's file leaves it to the picker.
  if (on) ui.dataset.disabled = app.state.model?.dataset != null;
  validate(app);
}
