/**
 * `createProtocol`: ties config, data, contexts, label space and stream together into a `Protocol`.
 */
import { loadMnist, padMnist } from '../data/mnist.js';
import { compileTransform, materialise } from '../data/transforms.js';
import { resolveConfig } from './config.js';
import { buildContexts } from './contexts.js';
import { labelSpace } from './labels.js';
import { trainingStream } from './stream.js';
import type { Batch, Protocol, ProtocolConfig } from './types.js';

/**
 * Build a protocol: loads the data (cached per directory), builds the contexts with their train / validation /
 * test indices and transforms, and returns the label mapping and a seeded training stream.
 * Throws `ProtocolConfigError` for a bad config and `EngramDataError` for missing or bad data files.
 *
 * @example
 * const p = createProtocol({ ...defaultConfig('split-mnist'), scenario: 'task', stream: 'task-free' });
 * for (const { batch, phase } of p.stream()) { ... }
 * const test = p.makeBatch('test', 0, p.contexts[0].testIndices.subarray(0, 256));
 */
export function createProtocol(config: ProtocolConfig): Protocol {
  const resolved = resolveConfig(config);
  const data = padMnist(loadMnist(resolved.dataDir), resolved.padding);
  const contexts = buildContexts(resolved, data);
  const labels = labelSpace(resolved.scenario, contexts.map((c) => c.classes));
  const transforms = contexts.map((c) => compileTransform(c.transform, data.rows, data.cols));
  const src = {
    config: resolved,
    contexts,
    transforms,
    images: data.train.images,
    labels: data.train.labels,
    pixels: data.pixels,
    targets: labels.table,
  };

  return {
    config: resolved,
    inputSize: data.pixels,
    numOutputs: labels.numOutputs,
    contexts,
    activeOutputs: (context) => labels.activeOutputs(context),
    targetOf: (context, originalClass) => labels.targetOf(context, originalClass),
    /**
     * `contexts` is filled in task-IL only: evaluation batches in class- / domain-IL must not tell the
     * learner which context a test image belongs to.
     */
    makeBatch(split, context, indices): Batch {
      const set = split === 'train' ? data.train : data.test;
      const ct = transforms[context];
      if (ct === undefined) throw new RangeError(`no context ${context} (there are ${contexts.length})`);
      for (const i of indices) {
        if (i < 0 || i >= set.count) throw new RangeError(`${split} index ${i} out of range 0..${set.count - 1}`);
      }
      const x = materialise(ct, set.images, indices);
      const y = new Int32Array(indices.length);
      indices.forEach((i, b) => {
        y[b] = labels.targetOf(context, set.labels[i]!);
      });
      const ctx = resolved.scenario === 'task' ? new Int32Array(indices.length).fill(context) : null;
      return { x, y, size: indices.length, contexts: ctx };
    },
    stream: (from = 0) => ({ [Symbol.iterator]: () => trainingStream(src, from) }),
    totalIterations: resolved.numContexts * resolved.itersPerContext,
  };
}
