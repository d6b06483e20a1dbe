// Modules that exist only inside Vite, made by plugins of vite.config.ts.

/** Fashion-MNIST built into the app (web/vite/fashion-mnist-plugin.ts). */
declare module 'virtual:xbarsim-fashion-mnist' {
  /** The four asset files: the official test split and the calibration slice of the training split. */
  export type FashionMnistAssetKey = 'testImages' | 'testLabels' | 'trainImages' | 'trainLabels';

  /** Asset URLs and sizes, or why this build has no Fashion-MNIST. */
  export type FashionMnistAssets =
    | {
        available: true;
        /** Images in the test split (the official 10,000). */
        testImages: number;
        /** Images in the calibration slice: the first ones of the training split, in file order. */
        calibrationImages: number;
        /** Images in the whole training split the slice was cut from (what the CLI can calibrate on). */
        trainImages: number;
        urls: Record<FashionMnistAssetKey, string>;
      }
    | { available: false; reason: string };

  export const fashionMnistAssets: FashionMnistAssets;
}
