#!/usr/bin/env node
'use strict';
/**
 * Finds an OpenBLAS to link the native addon against, preferring its OpenMP build (the addon's own GEMM uses
 * OpenMP, so one threading runtime, libgomp, serves both). Each candidate is verified by compiling and linking
 * a small probe that calls cblas_sgemm and openblas_get_config.
 *
 *   node scripts/detect-openblas.cjs --cflags   compiler flags for binding.gyp (empty when none is found)
 *   node scripts/detect-openblas.cjs --libs     linker flags for binding.gyp (empty when none is found)
 *   node scripts/detect-openblas.cjs            a JSON report (what was found, what was tried)
 *
 * Environment:
 *   ENGRAM_NO_OPENBLAS=1                build without OpenBLAS (the builtin GEMM only)
 *   ENGRAM_OPENBLAS_INCLUDE, ENGRAM_OPENBLAS_LIBDIR, ENGRAM_OPENBLAS_LIB (default "openblas")
 *                                       use this OpenBLAS (still verified by the probe)
 *   CC                                  the C compiler for the probe (default "cc")
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PROBE_SOURCE = `#include <stdio.h>
#include <cblas.h>
int main(void) {
  float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {0, 0, 0, 0};
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
  printf("%d %g %s\\n", openblas_get_parallel(), (double)c[3], openblas_get_config());
  return 0;
}
`;

function envFlag(name) {
  const v = process.env[name];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function multiarchTriplet() {
  const r = spawnSync(process.env.CC || 'cc', ['-print-multiarch'], { encoding: 'utf8' });
  const t = r.status === 0 ? r.stdout.trim() : '';
  if (t !== '') return t;
  if (process.arch === 'x64') return 'x86_64-linux-gnu';
  if (process.arch === 'arm64') return 'aarch64-linux-gnu';
  return null;
}

/** Candidate { label, includeDir, libDir, lib } in order of preference. */
function candidates() {
  const out = [];
  if (process.env.ENGRAM_OPENBLAS_INCLUDE || process.env.ENGRAM_OPENBLAS_LIBDIR) {
    out.push({
      label: 'ENGRAM_OPENBLAS_* environment',
      includeDir: process.env.ENGRAM_OPENBLAS_INCLUDE || null,
      libDir: process.env.ENGRAM_OPENBLAS_LIBDIR || null,
      lib: process.env.ENGRAM_OPENBLAS_LIB || 'openblas',
    });
  }
  if (process.platform === 'linux') {
    // Debian / Ubuntu ship each threading variant in its own multiarch directory.
    const triplet = multiarchTriplet();
    if (triplet !== null) {
      for (const variant of ['openblas-openmp', 'openblas-pthread', 'openblas-serial']) {
        out.push({
          label: `Debian ${variant}`,
          includeDir: `/usr/include/${triplet}/${variant}`,
          libDir: `/usr/lib/${triplet}/${variant}`,
          lib: 'openblas',
        });
      }
    }
    // Fedora / RHEL: libopenblaso is the OpenMP build, libopenblasp the pthread one.
    for (const [lib, libDir] of [['openblaso', '/usr/lib64'], ['openblasp', '/usr/lib64'], ['openblas', '/usr/lib64']]) {
      out.push({ label: `Fedora lib${lib}`, includeDir: '/usr/include/openblas', libDir, lib });
    }
  }
  const pc = spawnSync('pkg-config', ['--variable=includedir', 'openblas'], { encoding: 'utf8' });
  const pcLib = spawnSync('pkg-config', ['--variable=libdir', 'openblas'], { encoding: 'utf8' });
  if (pc.status === 0 && pcLib.status === 0) {
    out.push({
      label: 'pkg-config openblas',
      includeDir: pc.stdout.trim() || null,
      libDir: pcLib.stdout.trim() || null,
      lib: 'openblas',
    });
  }
  for (const prefix of ['/opt/homebrew/opt/openblas', '/usr/local/opt/openblas', '/usr/local', '/usr']) {
    for (const inc of ['include', 'include/openblas']) {
      out.push({ label: `prefix ${prefix}`, includeDir: path.join(prefix, inc), libDir: path.join(prefix, 'lib'), lib: 'openblas' });
    }
  }
  // Drop candidates whose directories do not exist, and duplicates.
  const seen = new Set();
  return out.filter((c) => {
    if (c.includeDir !== null && !fs.existsSync(path.join(c.includeDir, 'cblas.h'))) return false;
    if (c.libDir !== null && !fs.existsSync(c.libDir)) return false;
    const key = `${c.includeDir}|${c.libDir}|${c.lib}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function linkFlags(c) {
  const flags = [];
  if (c.libDir !== null) flags.push(`-L${c.libDir}`);
  flags.push(`-l${c.lib}`);
  // Pin the directory: on Debian the default libopenblas.so.0 is whichever variant `alternatives` selects.
  if (c.libDir !== null && process.platform !== 'win32') flags.push(`-Wl,-rpath,${c.libDir}`);
  return flags;
}

/** Compiles, links and runs the probe; returns { ok, parallel, config, error }. */
function probe(c, dir) {
  const src = path.join(dir, 'probe.c');
  const exe = path.join(dir, 'probe');
  fs.writeFileSync(src, PROBE_SOURCE);
  const args = [src, '-o', exe];
  if (c.includeDir !== null) args.push(`-I${c.includeDir}`);
  args.push(...linkFlags(c));
  const cc = spawnSync(process.env.CC || 'cc', args, { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    const msg = cc.error ? cc.error.message : (cc.stderr || '').trim().split('\n')[0];
    return { ok: false, error: `probe did not build: ${msg}` };
  }
  const run = spawnSync(exe, [], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
    timeout: 20000,
  });
  if (run.error || run.status !== 0) {
    return { ok: false, error: `probe did not run: ${run.error ? run.error.message : `exit ${run.status}`}` };
  }
  const m = /^(-?\d+) (\S+) (.*)$/.exec(run.stdout.trim());
  if (m === null || Number(m[2]) !== 4) return { ok: false, error: `probe gave a wrong result: ${run.stdout.trim()}` };
  return { ok: true, parallel: Number(m[1]), config: m[3].trim() };
}

const THREADING = { 0: 'serial', 1: 'pthreads', 2: 'openmp' };

function detect() {
  const tried = [];
  if (envFlag('ENGRAM_NO_OPENBLAS')) return { found: null, tried, disabled: 'ENGRAM_NO_OPENBLAS is set' };
  if (process.platform === 'win32') return { found: null, tried, disabled: 'not supported on Windows' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engram-openblas-'));
  let fallback = null;
  try {
    for (const c of candidates()) {
      const r = probe(c, dir);
      tried.push({ ...c, ...r });
      if (!r.ok) continue;
      const found = { ...c, threading: THREADING[r.parallel] ?? `unknown (${r.parallel})`, config: r.config };
      if (r.parallel === 2) return { found, tried };
      if (fallback === null) fallback = found;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { found: fallback, tried };
}

function main() {
  const mode = process.argv[2] ?? '--json';
  const result = detect();
  const f = result.found;
  if (mode === '--cflags') {
    if (f !== null) {
      const flags = ['-DENGRAM_HAVE_OPENBLAS=1'];
      if (f.includeDir !== null) flags.push(`-I${f.includeDir}`);
      process.stdout.write(`${flags.join(' ')}\n`);
    }
  } else if (mode === '--libs') {
    if (f !== null) process.stdout.write(`${linkFlags(f).join(' ')}\n`);
  } else if (mode === '--json') {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    process.stderr.write('usage: detect-openblas.cjs [--cflags | --libs | --json]\n');
    process.exitCode = 2;
  }
}

main();
