/**
 * Reading data sets from disk (IDX / MNIST layout) and turning stored images into model inputs.
 */
export { EngramDataError } from './errors.js';
export { readIdx, parseIdx, writeIdx, encodeIdx, type IdxArray } from './idx.js';
export {
  loadMnist, padMnist, defaultMnistDir, clearMnistCache, MNIST_FILES, MNIST_ROWS, MNIST_COLS, MNIST_CLASSES,
  type MnistData, type MnistSplit,
} from './mnist.js';
export { compileTransform, writeImage, materialise, isPermutation, type CompiledTransform } from './transforms.js';
export { writeSyntheticMnist, syntheticPixel, syntheticImageIndex, type SyntheticMnistOptions } from './synthetic.js';
