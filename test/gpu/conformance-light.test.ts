// The five lightest zoo networks (under 2 G multiply-adds; ~45 s on lavapipe). The next three are
// in conformance-light-2.test.ts; VGG-19 (20 G, ~100 s on lavapipe) runs only with
// XBARSIM_GPU_VGG=1 (conformance-light-vgg.test.ts), too slow for CI.
import { lightModelSuite } from '../helpers/gpu-light.ts';

await lightModelSuite(['bvlc_alexnet', 'squeezenet', 'shufflenet', 'zfnet512', 'inception_v1']);
