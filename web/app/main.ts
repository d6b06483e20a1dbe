// The browser app: pick a model and presets, edit the sweep, run it on navigator.gpu, watch the
// chart fill in, download the results. Everything runs and stays in this page. This file only
// wires the parts: the page (dom.ts), the state (state.ts), the form, the model picker, the runner
// and the backend.
import { openAppBackend } from './backend.ts';
import { showDataset, wireDatasetInput } from './data-picker.ts';
import { findUi } from './dom.ts';
import { buildForm, onPathChange, validate } from './form.ts';
import { activateSelected, wireModelInputs } from './model-picker.ts';
import { downloadCsv, downloadJsonl, requestStop, runFromForm } from './runner.ts';
import { backendText } from './sweep.ts';
import { createApp, type App, type AppHook } from './state.ts';

export type { AppHook } from './state.ts';

declare global {
  interface Window {
    __xbarsim: AppHook;
  }
}

function wire(app: App): void {
  const { ui } = app;
  ui.form.addEventListener('input', () => validate(app));
  ui.form.addEventListener('change', () => validate(app));
  ui.path.addEventListener('change', () => onPathChange(app));
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    void runFromForm(app);
  });
  ui.stopButton.addEventListener('click', () => requestStop(app));
  ui.jsonl.addEventListener('click', () => downloadJsonl(app));
  ui.csv.addEventListener('click', () => downloadCsv(app));
  wireModelInputs(app);
  wireDatasetInput(app);
}

function start(): void {
  const app = createApp(findUi());
  window.__xbarsim = app.hook;
  const { ui, state, hook } = app;
  buildForm(ui);
  wire(app);
  onPathChange(app);

  void openAppBackend().then((b) => {
    state.backend = b;
    hook.adapter = backendText(b);
    ui.adapter.textContent = hook.adapter;
    ui.adapter.classList.toggle('warn', b.kind === 'cpu');
    validate(app);
  });

  // The data (MNIST's digits are 21 MB of JSON) load while the user edits the form, not when Run is pressed.
  showDataset(app);
  activateSelected(app);
}

start();
