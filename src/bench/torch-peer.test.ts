import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bestByThreads, openblasCoretypes, peerVerdict, PYTHON, type TorchBlas, type TorchRun } from './torch-peer.js';

const openblas: TorchBlas = {
  kind: 'openblas', optimised: true, name: 'OpenBLAS 0.3.21 (OpenMP, Haswell kernels)',
  sgemmFrom: '/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3',
  libblasAlternative: '/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3', torchBlasInfo: 'generic', blasLibrariesMapped: [],
};

test('a ratio is allowed against an optimised BLAS only, and a refusal says how to fix it in one line', () => {
  assert.deepEqual(peerVerdict(openblas), { ok: true });
  const reference = { ...openblas, kind: 'reference' as const, optimised: false, sgemmFrom: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3' };
  const unknown = { ...openblas, kind: 'unknown' as const, optimised: false, sgemmFrom: null };
  for (const [blas, says] of [[reference, /reference BLAS \(\/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so\.3\)/], [unknown, /cannot tell/]] as const) {
    const v = peerVerdict(blas);
    assert.equal(v.ok, false);
    if (v.ok) continue;
    assert.match(v.reason, says);
    assert.match(v.reason, /apt-get install libopenblas0-openmp/);
    assert.match(v.reason, /update-alternatives/);
    assert.doesNotMatch(v.reason, /\n/);
  }
});

test('the peer is compared at each thread count with its fastest run at exactly that count', () => {
  const run = (threads: number, samplesPerSecond: number, samplesPerCpuSecond: number, openblasCoretype: string): TorchRun =>
    ({ threads, samplesPerSecond, samplesPerCpuSecond, openblasCoretype, waitPolicy: 'passive', blas: openblasCoretype });
  const runs = [run(1, 10, 11, 'default'), run(2, 30, 16, 'default'), run(1, 12, 10, 'Haswell'), run(2, 25, 17, 'Haswell')];
  const best = bestByThreads(runs);
  assert.equal(best.get(1)?.openblasCoretype, 'Haswell');
  assert.equal(best.get(2)?.openblasCoretype, 'default');
  assert.equal(best.get(4), undefined);
  const cheapest = bestByThreads(runs, 'samplesPerCpuSecond');
  assert.equal(cheapest.get(1)?.openblasCoretype, 'default');
  assert.equal(cheapest.get(2)?.openblasCoretype, 'Haswell');
  assert.equal(bestByThreads([]).size, 0);
});

test('OpenBLAS kernel sets offered to the peer follow the CPU flags', () => {
  assert.deepEqual(openblasCoretypes('flags : fpu sse2 avx2 fma avx512f'), [null, 'SkylakeX', 'Haswell']);
  assert.deepEqual(openblasCoretypes('flags : fpu sse2 avx2 fma'), [null, 'Haswell']);
  assert.deepEqual(openblasCoretypes('flags : fpu sse2'), [null]);
});

// scripts/torch_mlp_step.py's classification of the library torch's sgemm_ comes from (needs Debian's torch).
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
test('the peer script tells a reference libblas from OpenBLAS by the symbols it exports', { skip: !hasTorch && 'no python3-torch' }, () => {
  const scripts = join(dirname(fileURLToPath(import.meta.url)), '../../scripts');
  const code = [
    'import json, sys', `sys.path.insert(0, ${JSON.stringify(scripts)})`, 'import torch_mlp_step as t',
    'ref = t.classify("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", set(), "generic")',
    'ob = t.classify("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3", {"openblas_get_config"}, "generic",',
    '  {"config": "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH USE_OPENMP Haswell MAX_THREADS=64", "core": "Haswell"})',
    'blis = t.classify("/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3", {"bli_info_get_version_str"}, "generic")',
    'wheel = t.classify(None, set(), "mkl")',
    'none = t.classify(None, set(), "generic")',
    'print(json.dumps([ref, ob, blis, wheel, none]))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [ref, ob, blis, wheel, none] = JSON.parse(r.stdout) as TorchBlas[];
  assert.deepEqual([ref?.kind, ref?.optimised], ['reference', false]);
  assert.deepEqual([ob?.kind, ob?.optimised, ob?.name], ['openblas', true, 'OpenBLAS 0.3.21 (OpenMP, Haswell kernels)']);
  assert.deepEqual([blis?.kind, blis?.optimised], ['blis', true]);
  assert.deepEqual([wheel?.kind, wheel?.optimised], ['mkl', true]);
  assert.deepEqual([none?.kind, none?.optimised], ['unknown', false]);
});
