import type { ProtocolName, Scenario, StreamKind } from '../../protocols/types.js';

/**
 * Published default hyperparameters of the regularisation baselines, per protocol and scenario.
 *
 * EWC and SI: van de Ven, Tuytelaars & Tolias (2022), GMvandeVen/continual-learning `params/param_values.py`,
 * `set_default_values` ("-regularization strength" block): `ewc_lambda` and `si_c` by experiment and scenario,
 * and `si_c = 10` with `no_boundaries`. Their code has no rotated MNIST: it takes the permMNIST values (the
 * `else` branch, "not splitMNIST"). Other defaults from `params/options.py`: `--epsilon 0.1` (SI), `--gamma 1`
 * (online EWC), `--fisher-labels all`, `--fisher-batch 1`, `--fisher-n` None (a full pass over the context's
 * training set), `--update-every 100` (task-free consolidation, `main_task_free`). Their published Permuted
 * MNIST runs pass `--fisher-n=1000` (`all_results.sh`, "## Permuted MNIST").
 *
 * Permuted MNIST, where those runs differ from ours outside this file: their inputs are MNIST zero-padded to
 * 32×32 before permuting (`data/load.py`: `data_type = 'MNIST32'` for permMNIST; `data/available.py`:
 * `'MNIST32': [transforms.Pad(2), transforms.ToTensor()]`), i.e. 1024 inputs — the protocol option
 * `padding: 2` (src/protocols). Their Fisher is estimated once after each context (`train/train_task_based.py`,
 * "UPON FINISHING EACH CONTEXT": `model.estimate_fisher(training_dataset, ...)`), in eval mode, on the first
 * `fisher_n + 1` samples of a shuffled loader (`continual_learner.py`: `if index > self.fisher_n: break`,
 * then `/index`): 1001 samples at the final parameters; ours is the window of the context's last
 * ⌈1000/128⌉ = 8 batches (1024 samples), each at the parameters right after its step (see windowed.ts).
 *
 * The published Permuted MNIST figures (van de Ven & Tolias 2019, "Three scenarios for continual learning",
 * domain-IL: EWC 94.3, SI 95.3) come from the repository's 2019 code, whose settings differ: root
 * `param_values.py` (commit f0b1461e) sets, for permMNIST, `ewc_lambda` 500 (task), 500 (domain), 1 (class),
 * `o_lambda` 500 / 1000 / 5, `gamma` 0.8 / 0.9 / 1, `si_c` 5 / 5 / 0.1; its `continual_learner.py`
 * (commit 39301f94) estimates the Fisher with the predicted label (`emp_FI = False` →
 * `label = output.max(1)[1]`, i.e. `fisher_labels 'pred'`) over `fisher_n = None` = a full pass over the
 * context's training set; the same MNIST32 padding (root `data.py`: `'mnist': [transforms.Pad(2), ...]`,
 * size 32). The values below follow the current code (λ = 100 with the `all`-label Fisher, which for a
 * confident model is typically much larger than the predicted-label one — per sample, 1 − Σp² against
 * ‖p − e_pred‖² at the logits — so the two λ are not comparable).
 *
 * MAS is not in that code base; its strengths come from Hsu, Liu, Ramasamy & Kira (2018), GT-RIPL/
 * Continual-Learning-Benchmark `scripts/*_MNIST_incremental_{task,domain,class}.sh`, `--agent_name MAS
 * --reg_coef …` (same MLP400 / Adam 1e-3 / batch 128 Split MNIST and MLP1000 / Adam 1e-4 Permuted MNIST),
 * rescaled to Aljundi et al.'s importance (see {@link masLambda}).
 *
 * @example
 * ewcLambda('split-mnist', 'task'); // 1e5
 */

/** EWC's λ in L = L_CE + λ · ½ Σ F (θ − θ*)² (`ewc_lambda`; used for offline and online EWC alike). */
export function ewcLambda(protocol: ProtocolName, scenario: Scenario): number {
  if (protocol === 'split-mnist') {
    // param_values.py: task 100000., domain 10000000000., class 1000000000.
    return scenario === 'task' ? 1e5 : scenario === 'domain' ? 1e10 : 1e9;
  }
  // param_values.py, permMNIST (the `else` branch) in every scenario: 100.
  return 100;
}

/** SI's c in L = L_CE + c · Σ Ω (θ − θ*)² (`si_c`). */
export function siC(protocol: ProtocolName, scenario: Scenario, stream: StreamKind): number {
  // param_values.py: `if no_boundaries: args.si_c = 10.`
  if (stream === 'task-free') return 10;
  if (protocol === 'split-mnist') {
    // param_values.py: task 10., domain 50000., class 5000.
    return scenario === 'task' ? 10 : scenario === 'domain' ? 5e4 : 5e3;
  }
  // param_values.py, permMNIST: task 10., domain 10., class 5.
  return scenario === 'class' ? 5 : 10;
}

/** SI's damping ξ in Ω += ω / (Δθ² + ξ) (options.py `--epsilon`, default 0.1). */
export const SI_EPSILON = 0.1;

/** Online EWC's decay γ of the running Fisher (options.py `--gamma`, default 1.). */
export const EWC_GAMMA = 1;

/**
 * MAS's λ in L = L_CE + λ · Σ Ω (θ − θ*)², with Ω = mean_k |∂‖f(x_k)‖²/∂θ| (Aljundi et al. 2018: the squared
 * norm sums f² over the K outputs of the sample's head). Hsu et al.'s `--reg_coef` values were tuned for an
 * importance built from `pred.pow(2).mean()`, which averages f² over the K outputs (and over the batch before
 * taking |·|), i.e. at most 1/K of ours; so their coefficient is divided by K here to keep the same strength:
 * K = 2 (a Split MNIST head, or domain-IL's 2 outputs), 10 (Split MNIST class-IL; a Permuted MNIST task-IL head
 * or domain-IL), 100 (Permuted MNIST class-IL, 10 contexts).
 */
export function masLambda(protocol: ProtocolName, scenario: Scenario): number {
  if (protocol === 'split-mnist') {
    // split_MNIST_incremental_task.sh 1 / K=2, _domain.sh 10000 / K=2, _class.sh 1 / K=10
    return scenario === 'task' ? 0.5 : scenario === 'domain' ? 5000 : 0.1;
  }
  // permuted_MNIST_incremental_task.sh 0.01 / K=10, _domain.sh 0.1 / K=10, _class.sh 0.003 / K=100
  return scenario === 'task' ? 1e-3 : scenario === 'domain' ? 0.01 : 3e-5;
}

/**
 * Samples used to estimate EWC's Fisher / MAS's importance at each consolidation. van de Ven's default is a full
 * pass over the context's training set (`--fisher-n` None): ≈12,000 images per Split MNIST context (the figure
 * their param_values.py uses as `data_size` for splitMNIST); their Permuted MNIST runs use 1000.
 */
export function importanceSamples(protocol: ProtocolName): number {
  return protocol === 'split-mnist' ? 12_000 : 1000;
}

/** Task-free streams: consolidate SI every this many iterations (options.py `--update-every`, default 100). */
export const SI_TASK_FREE_UPDATE_EVERY = 100;
