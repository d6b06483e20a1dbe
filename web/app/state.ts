// The app's state, in one object handed to every part (no module-level variables), and the hook a
// test (or a curious user) reads off `window.__xbarsim`.
import type { Backend } from '../../src/gpu/backend.ts';
import type { LiveChart } from './chart.ts';
import type { AppDataset } from './dataset-info.ts';
import type { Ui } from './dom.ts';
import type { LoadedModel } from './models.ts';
import type { AppResultLine, AppSweepPlan } from './sweep.ts';

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
  /** The dataset the next run evaluates: the shipped model's, or the one picked for a dropped file. */
  dataset: AppDataset;
  error?: string;
}

/** Everything that changes while the page is open. */
export interface AppState {
  backend: Backend | null;
  model: LoadedModel | null;
  /** Bumped on each model change, so a slow load that finishes late does not replace a newer choice. */
  modelRequest: number;
  /** Dropped files by picker value: kept in memory, so switching back needs no re-drop. */
  readonly dropped: Map<string, LoadedModel>;
  /** The dataset picked for dropped files (shipped models bring their own). */
  userDataset: AppDataset;
  running: boolean;
  stopRequested: boolean;
  lines: AppResultLine[];
  /** The plan and model of the results on screen (the form may have changed since). */
  lastPlan: AppSweepPlan | null;
  lastModelLabel: string;
  chart: LiveChart | null;
  energyChart: LiveChart | null;
}

/** The page, its state and its hook. */
export interface App {
  ui: Ui;
  state: AppState;
  hook: AppHook;
}

/** The dataset the next run evaluates: the model's own (shipped), else the one picked for the user's file. */
export function currentDataset(state: AppState): AppDataset {
  return state.model?.dataset ?? state.userDataset;
}

/** A fresh app on `ui`: no backend or model yet, nothing run. */
export function createApp(ui: Ui): App {
  return {
    ui,
    state: {
      backend: null,
      model: null,
      modelRequest: 0,
      dropped: new Map(),
      userDataset: 'mnist',
      running: false,
      stopRequested: false,
      lines: [],
      lastPlan: null,
      lastModelLabel: 'model',
      chart: null,
      energyChart: null,
    },
    hook: { ready: false, state: 'idle', points: 0, done: 0, total: 0, adapter: '', dataset: 'mnist' },
  };
}
