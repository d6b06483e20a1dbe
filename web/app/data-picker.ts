// The dataset picker and the data status line. A shipped model fixes the dataset (the picker shows
// it, locked); for the user's file the picker decides, MNIST by default. The status line says what
// the app holds of the dataset in use, or why this build lacks it.
import { messageOf } from '../../src/errors.ts';
import { APP_DATASETS, type AppDataset } from './dataset-info.ts';
import { dataChoice, datasetStatus } from './datasets.ts';
import { validate } from './form.ts';
import { currentDataset, type App } from './state.ts';

/** Shows the dataset in use in the picker and the status line, loading it in the background. */
export function showDataset(app: App): void {
  const { ui, state, hook } = app;
  const d = currentDataset(state);
  const tiedTo = state.model?.dataset != null ? state.model.label : null;
  hook.dataset = d;
  ui.dataset.value = d;
  ui.dataset.disabled = state.running || tiedTo !== null;
  ui.dataset.title = tiedTo !== null ? `${tiedTo} was trained on ${APP_DATASETS[d].title}` : 'the dataset your file runs on';
  const choice = dataChoice(d);
  ui.dataStatus.classList.toggle('warn', typeof choice === 'string');
  if (typeof choice === 'string') {
    ui.dataStatus.textContent = choice;
    return;
  }
  const title = APP_DATASETS[d].title;
  ui.dataStatus.textContent = `${title}: loading…`;
  // The loaders cache: a dataset already loaded answers at once. A late answer for a dataset no longer in use is dropped.
  void datasetStatus(d)
    .then((text) => {
      if (currentDataset(state) === d) ui.dataStatus.textContent = text;
    })
    .catch((e: unknown) => {
      if (currentDataset(state) === d) ui.dataStatus.textContent = `${title}: could not load (${messageOf(e)}); Run retries`;
    });
}

/** Wires the picker: a new choice is the dataset of dropped files from now on. */
export function wireDatasetInput(app: App): void {
  const { ui, state } = app;
  ui.dataset.addEventListener('change', () => {
    state.userDataset = ui.dataset.value as AppDataset;
    showDataset(app);
    validate(app);
  });
}
