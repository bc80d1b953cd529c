import assert from 'node:assert/strict';
import test from 'node:test';
import { BackendError, chooseBackend, portableBackend, type NativeAddonProbe } from './index.js';
import type { Backend } from './backend.js';

/** A stand-in addon: `loads` says whether it loads at all, `openblas` whether it was built with OpenBLAS. */
function fakeAddon(loads: boolean, openblas: boolean): { probe: NativeAddonProbe; native: Backend } {
  const native = { ...portableBackend, name: 'native' } as unknown as Backend;
  return {
    native,
    probe: {
      load: (o) => (!loads || (o.gemm === 'openblas' && !openblas) ? null : native),
      loadError: () => (loads ? null : 'engram_native.node: cannot open shared object file'),
      hasOpenblas: () => loads && openblas,
    },
  };
}

const refused = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof BackendError && pattern.test(e.message));
};

test('chooseBackend: nothing requested takes the addon when it loads, else the portable backend', () => {
  const ok = fakeAddon(true, false);
  assert.equal(chooseBackend(undefined, undefined, ok.probe), ok.native);
  assert.equal(chooseBackend('', '', ok.probe), ok.native);
  assert.equal(chooseBackend(undefined, undefined, fakeAddon(false, false).probe), portableBackend);
});

test('chooseBackend: a requested backend or GEMM that cannot be had is an error with the reason, never a fallback', () => {
  refused(() => chooseBackend(undefined, 'openblas', fakeAddon(true, false).probe), /ENGRAM_GEMM=openblas .*built without OpenBLAS/);
  refused(() => chooseBackend('native', 'openblas', fakeAddon(true, false).probe), /built without OpenBLAS/);
  refused(() => chooseBackend('native', undefined, fakeAddon(false, false).probe), /ENGRAM_BACKEND=native .*cannot open shared object/);
  refused(() => chooseBackend(undefined, 'builtin', fakeAddon(false, false).probe), /ENGRAM_GEMM=builtin .*unavailable: .*cannot open/);
  refused(() => chooseBackend('portable', 'openblas', fakeAddon(true, true).probe), /ENGRAM_BACKEND=portable/);
  refused(() => chooseBackend('gpu', undefined, fakeAddon(true, true).probe), /ENGRAM_BACKEND must be/);
  refused(() => chooseBackend(undefined, 'mkl', fakeAddon(true, true).probe), /ENGRAM_GEMM must be/);
});

test('chooseBackend: what can be had is given', () => {
  const ob = fakeAddon(true, true);
  assert.equal(chooseBackend(undefined, 'openblas', ob.probe), ob.native);
  assert.equal(chooseBackend('native', 'builtin', ob.probe), ob.native);
  assert.equal(chooseBackend('portable', undefined, ob.probe), portableBackend);
});
