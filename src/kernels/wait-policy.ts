/**
 * How idle OpenMP (libgomp) worker threads wait between parallel regions, as a value a benchmark can name on
 * its command line and turn into a child process's environment.
 *
 * - `inherit`: leave OMP_WAIT_POLICY and GOMP_SPINCOUNT as they are (the child decides: `engram run`'s default);
 * - `passive`: sleep at once (OMP_WAIT_POLICY=passive);
 * - `active`: spin until there is work (OMP_WAIT_POLICY=active);
 * - `spin:N`: spin N rounds, then sleep (GOMP_SPINCOUNT=N).
 */
export type WaitPolicy = { kind: 'inherit' } | { kind: 'passive' } | { kind: 'active' } | { kind: 'spin'; count: number };

/**
 * Parse one policy name, or throw an Error whose message says what is accepted.
 *
 * @example
 * parseWaitPolicy('spin:10000'); // { kind: 'spin', count: 10000 }
 */
export function parseWaitPolicy(text: string): WaitPolicy {
  const t = text.trim();
  if (t === 'inherit' || t === 'passive' || t === 'active') return { kind: t };
  const m = /^spin:(\d+)$/.exec(t);
  if (m !== null) return { kind: 'spin', count: Number(m[1]) };
  throw new Error(`wait policy must be inherit, passive, active or spin:N (N a whole number), got "${text}"`);
}

/** The policy's name as parseWaitPolicy reads it. */
export function waitPolicyName(p: WaitPolicy): string {
  return p.kind === 'spin' ? `spin:${p.count}` : p.kind;
}

/**
 * The variables that say this policy to libgomp (none for `inherit`).
 *
 * @example
 * waitPolicyVars({ kind: 'passive' }); // { OMP_WAIT_POLICY: 'passive' }
 */
export function waitPolicyVars(p: WaitPolicy): Record<string, string> {
  if (p.kind === 'inherit') return {};
  return p.kind === 'spin' ? { GOMP_SPINCOUNT: String(p.count) } : { OMP_WAIT_POLICY: p.kind };
}

/** How the environment says idle OpenMP threads wait, in parseWaitPolicy's words (`default` when it does not). */
export function describeWaitPolicy(env: NodeJS.ProcessEnv): string {
  const policy = env['OMP_WAIT_POLICY'];
  const spin = env['GOMP_SPINCOUNT'];
  if (policy !== undefined && spin !== undefined) return `${policy.toLowerCase()}, spin:${spin}`;
  if (policy !== undefined) return policy.toLowerCase();
  return spin !== undefined ? `spin:${spin}` : 'default';
}

/**
 * The environment a child runs under with this policy: the parent's, with OMP_WAIT_POLICY and GOMP_SPINCOUNT
 * replaced (or, for `inherit`, kept).
 *
 * @example
 * waitPolicyEnv({ kind: 'spin', count: 10000 }, process.env)['GOMP_SPINCOUNT']; // '10000'
 */
export function waitPolicyEnv(p: WaitPolicy, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (p.kind === 'inherit') return { ...env };
  const out: NodeJS.ProcessEnv = { ...env };
  delete out['OMP_WAIT_POLICY'];
  delete out['GOMP_SPINCOUNT'];
  return { ...out, ...waitPolicyVars(p) };
}

/**
 * How `engram run` (and `npm run bench`, for both sides) has idle OpenMP threads wait unless the environment
 * says otherwise. Measured with `npm run concurrency` (docs/USAGE.md#shared-machines).
 */
export const RUN_WAIT_POLICY: WaitPolicy = { kind: 'passive' };
