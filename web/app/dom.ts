// The page's elements (web/index.html), looked up once, and the one-line message helper.

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`index.html has no #${id}`);
  return e as T;
}

/** Every element the app reads or writes. */
export interface Ui {
  form: HTMLFormElement;
  adapter: HTMLSpanElement;
  modelSelect: HTMLSelectElement;
  dataset: HTMLSelectElement;
  modelFile: HTMLInputElement;
  drop: HTMLDivElement;
  modelStatus: HTMLParagraphElement;
  modelError: HTMLParagraphElement;
  dataStatus: HTMLParagraphElement;
  presets: HTMLDivElement;
  chips: HTMLInputElement;
  digits: HTMLInputElement;
  seed: HTMLInputElement;
  path: HTMLSelectElement;
  start: HTMLInputElement;
  stop: HTMLInputElement;
  count: HTMLInputElement;
  log: HTMLInputElement;
  list: HTMLInputElement;
  overrides: HTMLTextAreaElement;
  configError: HTMLParagraphElement;
  planSummary: HTMLParagraphElement;
  run: HTMLButtonElement;
  stopButton: HTMLButtonElement;
  progress: HTMLSpanElement;
  runError: HTMLParagraphElement;
  chart: HTMLDivElement;
  energyChart: HTMLDivElement;
  jsonl: HTMLButtonElement;
  csv: HTMLButtonElement;
  valueHeader: HTMLTableCellElement;
  tbody: HTMLTableSectionElement;
}

/** Looks up every element of the page; throws naming the first one missing. */
export function findUi(): Ui {
  return {
    form: el('form'),
    adapter: el('adapter'),
    modelSelect: el('model-select'),
    dataset: el('dataset'),
    modelFile: el('model-file'),
    drop: el('drop'),
    modelStatus: el('model-status'),
    modelError: el('model-error'),
    dataStatus: el('data-status'),
    presets: el('presets'),
    chips: el('chips'),
    digits: el('digits'),
    seed: el('seed'),
    path: el('vary-path'),
    start: el('vary-start'),
    stop: el('vary-stop'),
    count: el('vary-count'),
    log: el('vary-log'),
    list: el('vary-list'),
    overrides: el('overrides'),
    configError: el('config-error'),
    planSummary: el('plan-summary'),
    run: el('run'),
    stopButton: el('stop'),
    progress: el('progress'),
    runError: el('run-error'),
    chart: el('chart'),
    energyChart: el('energy-chart'),
    jsonl: el('download-jsonl'),
    csv: el('download-csv'),
    valueHeader: el('value-header'),
    tbody: el<HTMLTableElement>('results-table').tBodies[0],
  };
}

/** Shows a one-line message in `p` (the full text stays available as its tooltip), or hides it for null. */
export function showError(p: HTMLElement, message: string | null): void {
  p.hidden = message === null;
  p.textContent = message ?? '';
  p.title = message ?? '';
}
