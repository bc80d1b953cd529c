#!/usr/bin/env node
// After each Engram sleep, θ_S's accuracy on every context it has consolidated (validation split by default),
// and the share of that context's images it gives to classes outside the context: where old classes go when
// new ones arrive. Also prints the classifier head's weight norm and bias per class at the end.
//
//   npm run build && node scripts/engram-sleep-probe.mjs [stop=4400] [from=1990] [seed=1] [stream=boundaries]
//     [split=validation|test] [threads=1] [anyEngramOption=value ...]
//
// Each line: `sleep@BATCH n=MEMORY it=ITERATIONS share=SURPRISING dr=DREAMER_CHANGED | cJ ACC (xOUTSIDE) …`.
import { createProtocol } from '../dist/protocols/index.js';
import { createLearner } from '../dist/learners/index.js';
import { learnerSetup, protocolConfig, resolveConfig } from '../dist/harness/index.js';
import { noGrad, Tensor } from '../dist/core/index.js';
import { getBackend } from '../dist/kernels/index.js';
import { typedOptionValue } from '../dist/cli/set-option.js';

const own = ['stop', 'from', 'seed', 'stream', 'split', 'threads'];
const args = {};
for (const a of process.argv.slice(2)) {
  const m = /^(\w+)=(.*)$/.exec(a);
  if (m === null) {
    console.error(`engram-sleep-probe: expected key=value, got "${a}" (see the header of this script)`);
    process.exit(2);
  }
  args[m[1]] = m[2];
}
const stop = Number(args.stop ?? 4400), from = Number(args.from ?? 1990);
const split = args.split ?? 'validation';
getBackend().setThreads(Number(args.threads ?? 1));
let cfg, protocol, learner;
try {
  cfg = resolveConfig({
    protocol: 'split-mnist', method: 'engram', stream: args.stream ?? 'boundaries', seed: Number(args.seed ?? 1),
    methodOptions: Object.fromEntries(Object.entries(args).filter(([k]) => !own.includes(k)).map(([k, v]) => [k, typedOptionValue(v)])),
  });
  protocol = createProtocol(protocolConfig(cfg, false));
  learner = createLearner('engram', learnerSetup(cfg, protocol));
} catch (e) {
  console.error(`engram-sleep-probe: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  process.exit(2);
}
const K = protocol.numOutputs;
const sets = protocol.contexts.map((c, j) =>
  protocol.makeBatch(split === 'test' ? 'test' : 'train', j, split === 'test' ? c.testIndices : c.valIndices));

function report(tag) {
  const known = learner.known;
  if (known.length === 0) return;
  const parts = [];
  sets.forEach((b, j) => {
    const classes = protocol.contexts[j].classes;
    if (!classes.every((c) => known.includes(c))) return;
    const z = noGrad(() => learner.model.classify(learner.model.features(Tensor.from(b.x, [b.size, protocol.inputSize])))).data;
    let ok = 0, outside = 0;
    for (let i = 0; i < b.size; i++) {
      let best = -1;
      for (const k of known) if (best < 0 || z[i * K + k] > z[i * K + best]) best = k;
      if (best === b.y[i]) ok++;
      else if (!classes.includes(best)) outside++;
    }
    parts.push(`c${j} ${(100 * ok / b.size).toFixed(1)} (x${(100 * outside / b.size).toFixed(1)})`);
  });
  console.log(tag, parts.join('  '));
}

// The learner's own bookkeeping at the end of each sleep, then the probe.
const finishSleep = learner.finishSleep.bind(learner);
learner.finishSleep = (out, job) => {
  finishSleep(out, job);
  const s = learner.sleeps.at(-1);
  if (s.batch >= from) {
    report(`sleep@${s.batch} n=${s.samples} it=${s.iterations} share=${s.surprisingShare.toFixed(3)} dr=${s.dreamerRefreshed ? 1 : 0} |`);
  }
};
for (const step of protocol.stream(0)) {
  if (step.iteration >= stop) break;
  learner.observe(step.batch);
}
report('end');
const W = learner.model.head.weight.data, bias = learner.model.head.bias.data;
const H = W.length / K;
const norms = Array.from({ length: K }, (_, k) => {
  let s = 0;
  for (let h = 0; h < H; h++) s += W[h * K + k] ** 2;
  return Math.sqrt(s).toFixed(2);
});
console.log('head weight norm per class', norms.join(' '));
console.log('head bias per class', Array.from(bias, (v) => v.toFixed(2)).join(' '));
