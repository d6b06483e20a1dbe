// ResNet-50, Inception v2 and DenseNet-121 (4–6 G multiply-adds; ~46 s on lavapipe).
import { lightModelSuite } from '../helpers/gpu-light.ts';

await lightModelSuite(['resnet50', 'inception_v2', 'densenet121']);
