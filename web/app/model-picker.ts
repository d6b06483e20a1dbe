// The model: a shipped file from the picker, or one the user drops or picks. The newest request
// wins; a failed load shows its one-line error and keeps the model in use. A shipped model brings its
// dataset; a dropped file is checked against, and runs on, the dataset picked for it.
import { messageOf } from '../../src/errors.ts';
import { isMatrixOp } from '../../src/ir/graph.ts';
import { showDataset } from './data-picker.ts';
import { showError } from './dom.ts';
import { validate } from './form.ts';
import { loadModelFile, loadShippedModel, shippedModels, type LoadedModel } from './models.ts';
import type { App } from './state.ts';

/** The picker value of a dropped file. */
const FILE_OPTION = 'file:';

function describe(m: LoadedModel): string {
  const crossbar = m.net.ops.filter(isMatrixOp).length;
  return `${m.label}: input [${m.net.input.shape.join(', ')}], ${m.net.ops.length} ops, ${crossbar} on crossbars`;
}

function setModel(app: App, m: LoadedModel): void {
  app.state.model = m;
  app.ui.modelStatus.textContent = describe(m);
  showDataset(app);
}

/**
 * Loads a model; the newest request wins (a slow load finishing late is dropped). On failure the
 * one-line error shows, the previous model stays, and `onFail` puts the picker back.
 */
async function useModel(app: App, load: () => Promise<LoadedModel>, clearError: boolean, onFail?: () => void): Promise<void> {
  const { ui, state } = app;
  const request = ++state.modelRequest;
  if (clearError) showError(ui.modelError, null);
  ui.modelStatus.textContent = 'loading model…';
  try {
    const m = await load();
    if (request === state.modelRequest) setModel(app, m);
  } catch (e) {
    if (request !== state.modelRequest) return;
    showError(ui.modelError, messageOf(e));
    ui.modelStatus.textContent = state.model ? describe(state.model) : 'no model loaded';
    onFail?.();
  } finally {
    validate(app);
  }
}

/** Makes the picker's current entry the model: a shipped file (fetched) or a dropped one. */
export function activateSelected(app: App, clearError = true): void {
  const { ui, state } = app;
  const value = ui.modelSelect.value;
  const dropped = state.dropped.get(value);
  if (dropped) {
    ++state.modelRequest;
    if (clearError) showError(ui.modelError, null);
    setModel(app, dropped);
    validate(app);
    return;
  }
  const shipped = shippedModels().find((m) => m.file === value);
  if (shipped) void useModel(app, () => loadShippedModel(shipped), clearError);
}

function optionValue(app: App, m: LoadedModel): string {
  return app.state.dropped.has(`${FILE_OPTION}${m.label}`) ? `${FILE_OPTION}${m.label}` : m.label;
}

function onFiles(app: App, files: readonly File[]): void {
  const { ui, state } = app;
  const previous = ui.modelSelect.value;
  void useModel(
    app,
    async () => {
      const m = await loadModelFile(files, state.userDataset);
      const value = `${FILE_OPTION}${m.label}`;
      if (![...ui.modelSelect.options].some((o) => o.value === value)) ui.modelSelect.add(new Option(`${m.label} (your file)`, value));
      state.dropped.set(value, m);
      ui.modelSelect.value = value;
      return m;
    },
    true,
    () => {
      // The bad file may have superseded a load still under way: make the picker's entry current again.
      ui.modelSelect.value = previous;
      if (!state.model || optionValue(app, state.model) !== previous) activateSelected(app, false);
    },
  );
}

/** Wires the picker, the file input and the drop zone. */
export function wireModelInputs(app: App): void {
  const { ui, state } = app;
  ui.modelSelect.addEventListener('change', () => activateSelected(app));
  ui.modelFile.addEventListener('change', () => {
    const files = [...(ui.modelFile.files ?? [])];
    if (files.length > 0) onFiles(app, files);
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
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length > 0 && !state.running) onFiles(app, files);
  });
}
