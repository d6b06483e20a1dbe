// The names of the built-in datasets (`--dataset`), pure so that sweep definitions and reports can
// name them without loading any data.

/** The built-in datasets: each evaluates its test split and calibrates on its training split. */
export const BUILTIN_DATASETS = ['mnist', 'fashion-mnist'] as const;
export type BuiltinDataset = (typeof BUILTIN_DATASETS)[number];

/** What a report calls each built-in dataset's evaluated split. */
export const BUILTIN_DATASET_TITLES: Readonly<Record<BuiltinDataset, string>> = {
  mnist: 'MNIST test digits',
  'fashion-mnist': 'Fashion-MNIST test images',
};

/** True when `name` is a built-in dataset. */
export function isBuiltinDataset(name: string): name is BuiltinDataset {
  return (BUILTIN_DATASETS as readonly string[]).includes(name);
}
