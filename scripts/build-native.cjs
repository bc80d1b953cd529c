#!/usr/bin/env node
'use strict';
/**
 * The package's `install` script: builds the native addon (build/Release/engram_native.node) with node-gyp.
 * It never fails the install: when the build or the load check fails it prints one warning line and exits 0,
 * and Engram runs on its portable TypeScript backend.
 *
 * Works inside npm (node-gyp from npm_config_node_gyp, headers from npm's nodedir setting) and when run
 * directly (`node scripts/build-native.cjs`: npm's bundled node-gyp, and the headers installed next to node
 * when they exist, so that no download is needed).
 *
 * After a successful build it loads the addon in a child process. When the addon links an OpenBLAS whose
 * runtime CPU detection fell back to an old kernel set on a CPU it does not recognise (e.g. OpenBLAS 0.3.21 on
 * recent Xeons picks "Prescott", SSE3 only), it records a better OPENBLAS_CORETYPE in
 * build/Release/engram_native.json; src/kernels/native.ts applies it when loading, unless the user set
 * OPENBLAS_CORETYPE.
 *
 * node-gyp's output goes to build/native-build.log; the script itself prints one line (what was built, or why
 * Engram falls back to the portable backend).
 *
 * Environment: ENGRAM_SKIP_NATIVE=1 skips the build; ENGRAM_NO_OPENBLAS=1 builds without OpenBLAS;
 * ENGRAM_NATIVE_VERBOSE=1 shows node-gyp's output instead of logging it.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const addonPath = path.join(root, 'build', 'Release', 'engram_native.node');
const sidecarPath = path.join(root, 'build', 'Release', 'engram_native.json');
const logPath = path.join(root, 'build', 'native-build.log');
const FALLBACK = 'Engram will use the portable TypeScript backend';

function envFlag(name) {
  const v = process.env[name];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function warn(reason) {
  console.warn(`engram: warning: the native addon is not available (${reason}); ${FALLBACK}.`);
}

/** The node-gyp command as [executable, ...args]. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const bin = path.dirname(process.execPath);
  candidates.push(path.join(bin, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(bin, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] }));
  } catch {
    // not installed locally
  }
  for (const c of candidates) {
    if (fs.existsSync(c)) return [process.execPath, c];
  }
  return ['node-gyp'];
}

/** --nodedir for a direct run, when npm does not provide one and the headers sit next to node. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const hasHeaders = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) &&
    fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi'));
  return hasHeaders ? [`--nodedir=${prefix}`] : [];
}

/** Runs `node-gyp rebuild`; its output goes to build/native-build.log (or the terminal when verbose). */
function build() {
  const [cmd, ...pre] = findNodeGyp();
  const args = [...pre, 'rebuild', ...nodedirArgs()];
  const verbose = envFlag('ENGRAM_NATIVE_VERBOSE');
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    env: process.env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  let where = '';
  if (!verbose) {
    try {
      fs.mkdirSync(path.dirname(logPath), { recursive: true });
      fs.writeFileSync(logPath, `$ ${[cmd, ...args].join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
      where = `; see ${path.relative(process.cwd(), logPath) || logPath}`;
    } catch {
      // the log is a convenience
    }
  }
  if (r.error) return `could not run node-gyp: ${r.error.message}`;
  if (r.status !== 0) return `node-gyp rebuild failed with exit code ${r.status}${where}`;
  if (!fs.existsSync(addonPath)) return `node-gyp did not produce build/Release/engram_native.node${where}`;
  return null;
}

/** Loads the addon in a child process; returns its info() (plus a GEMM agreement check) or an error string. */
function inspect(coretype) {
  const env = { ...process.env, OMP_NUM_THREADS: '1' };
  delete env.OPENBLAS_CORETYPE;
  if (coretype !== undefined) env.OPENBLAS_CORETYPE = coretype;
  const script = `
    const a = require(${JSON.stringify(addonPath)});
    const info = a.info();
    let agree = null;
    if (a.hasOpenblas()) {
      const m = 37, n = 53, k = 71;
      const A = new Float32Array(m * k).map((_, i) => Math.sin(i));
      const B = new Float32Array(k * n).map((_, i) => Math.cos(i));
      const C0 = new Float32Array(m * n), C1 = new Float32Array(m * n);
      a.gemm(0, false, true, m, n, k, 1, A, B, 0, C0);
      a.gemm(1, false, true, m, n, k, 1, A, B, 0, C1);
      agree = C0.every((v, i) => Math.abs(v - C1[i]) <= 1e-4 * (1 + Math.abs(v)));
    }
    process.stdout.write(JSON.stringify({ ...info, hasOpenblas: a.hasOpenblas(), agree }));
  `;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, env, encoding: 'utf8', timeout: 60000 });
  if (r.error || r.status !== 0) {
    const detail = r.error ? r.error.message : (r.stderr || '').trim().split('\n').find((l) => l.trim() !== '') || `exit ${r.status}`;
    return { error: detail };
  }
  try {
    return { info: JSON.parse(r.stdout) };
  } catch {
    return { error: `unexpected output: ${r.stdout.slice(0, 200)}` };
  }
}

/** OpenBLAS kernel set to force on this CPU when runtime detection picked a weaker one, else null. */
function suggestCoretype(detected) {
  if (process.platform !== 'linux' || process.arch !== 'x64') return null;
  let flags;
  try {
    const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const line = cpuinfo.split('\n').find((l) => l.startsWith('flags'));
    if (line === undefined) return null;
    flags = new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  } catch {
    return null;
  }
  const has = (...names) => names.every((n) => flags.has(n));
  const weak = ['prescott', 'core2', 'penryn', 'dunnington', 'nehalem', 'atom', 'katmai', 'coppermine',
    'northwood', 'banias', 'generic', 'unknown'];
  const d = String(detected).toLowerCase();
  if (has('avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd')) {
    return weak.includes(d) || d === 'sandybridge' || d === 'haswell' ? 'SkylakeX' : null;
  }
  if (has('avx2', 'fma')) return weak.includes(d) || d === 'sandybridge' ? 'Haswell' : null;
  if (has('avx')) return weak.includes(d) ? 'Sandybridge' : null;
  return null;
}

function main() {
  if (envFlag('ENGRAM_SKIP_NATIVE')) {
    console.warn(`engram: ENGRAM_SKIP_NATIVE is set, the native addon is not built; ${FALLBACK}.`);
    return;
  }
  fs.rmSync(sidecarPath, { force: true });
  const failure = build();
  if (failure !== null) {
    warn(failure);
    return;
  }
  const first = inspect(undefined);
  if (first.error !== undefined) {
    warn(`it was built but does not load: ${first.error}`);
    return;
  }
  const info = first.info;
  let summary = `builtin GEMM ${info.builtinKernel}`;
  if (info.hasOpenblas) {
    const coretype = suggestCoretype(info.openblasCore);
    let core = info.openblasCore;
    if (coretype !== null && process.env.OPENBLAS_CORETYPE === undefined) {
      const forced = inspect(coretype);
      if (forced.error === undefined && String(forced.info.openblasCore).toLowerCase() === coretype.toLowerCase() &&
        forced.info.agree === true) {
        fs.writeFileSync(sidecarPath, `${JSON.stringify({ openblasCoretype: coretype, detectedCore: info.openblasCore }, null, 2)}\n`);
        core = `${coretype} (OpenBLAS detected ${info.openblasCore}; OPENBLAS_CORETYPE=${coretype} is applied at load)`;
      }
    }
    if (info.agree === false) {
      console.warn('engram: warning: OpenBLAS and the builtin GEMM disagree on a test product; prefer the builtin GEMM.');
    }
    summary += `, OpenBLAS core ${core}`;
  } else {
    summary += ', no OpenBLAS';
  }
  console.log(`engram: native backend built (${summary}).`);
}

try {
  main();
} catch (err) {
  warn(`build script error: ${err instanceof Error ? err.message : String(err)}`);
}
process.exitCode = 0;
