import { MAX_OPSET, MIN_OPSET } from '../io/onnx/import.ts';

/** The --model flag's help, one text for every command that imports a model. */
export const MODEL_HELP = `ONNX model (opsets ${MIN_OPSET}-${MAX_OPSET}; external data files are read from its folder)`;
