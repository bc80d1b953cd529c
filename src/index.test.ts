import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as engram from './index.js';

const entry = new URL('./index.js', import.meta.url);
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** The code of the entry's TSDoc example (the compiled file keeps the comment). */
function docExample(): string {
  const match = /```ts\n([\s\S]*?)\n \* ```/.exec(readFileSync(entry, 'utf8'));
  assert.ok(match !== null, 'the library entry has a ```ts example');
  return match[1]!.split('\n').map((line) => line.replace(/^ \* ?/, '')).join('\n');
}

test('"engram" resolves to the library entry through package.json\'s exports', () => {
  // From inside the package, Node resolves the package's own name through its `exports` map.
  assert.equal(import.meta.resolve('engram'), entry.href);
});

test('the library entry\'s TSDoc example runs as written, importing from "engram"', () => {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', docExample()], {
    cwd: packageRoot, encoding: 'utf8', timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const [summary, lastContext] = run.stdout.trim().split('\n');
  const [contexts, acc] = summary!.split(' ').map(Number);
  assert.equal(contexts, 5);
  assert.ok(acc! >= 0 && acc! <= 1, `ACC ${acc}`);
  // The learner driven by hand learnt the context it was trained on last.
  assert.ok(Number(lastContext) > 0.8, `last-context accuracy ${lastContext}`);
});

test('the entry\'s registry holds every method `engram run --method` takes', () => {
  const names = engram.listMethods().map((m) => m.name);
  for (const name of ['naive', 'joint', 'er', 'lwf', 'ewc', 'si', 'dgr-distill', 'bi-r', 'gpm', 'gen-classifier', 'engram']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
});
