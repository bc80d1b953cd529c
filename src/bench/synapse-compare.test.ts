import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portableBackend, setBackend } from '../kernels/index.js';
import { compareSynapses, main, renderTable, stat } from './synapse-compare.js';

setBackend(portableBackend);

const script = fileURLToPath(new URL('./synapse-compare.js', import.meta.url));

test('the comparison over 2 seeds: MESU keeps task A far better than plain SGD, and a short window forgets', () => {
  const rows = compareSynapses([1, 2]);
  const row = (method: string, settings: string) => rows.find((r) => r.method === method && r.settings.includes(settings))!;
  const sgd = row('plain SGD', 'lr'), mesu = row('MESU', 'N 1000'), short = row('MESU', 'N 100 ');
  assert.equal(rows.length, 5);
  for (const r of rows.filter((x) => !x.stochastic)) {
    assert.equal(r.seeds, null);
    assert.equal(r.runs.length, 1);
    assert.equal(r.aAfterB.sd, null);
  }
  assert.deepEqual(mesu.seeds, [1, 2]);
  assert.equal(mesu.runs.length, 2);
  assert.ok(sgd.aAfterB.mean > 0.3, `SGD forgets A: ${sgd.aAfterB.mean}`);
  assert.ok(mesu.aAfterB.mean < 0.1 * sgd.aAfterB.mean, `MESU A after B ${mesu.aAfterB.mean} vs SGD ${sgd.aAfterB.mean}`);
  assert.ok(short.aAfterB.mean > 3 * mesu.aAfterB.mean, `N = 100 forgets more: ${short.aAfterB.mean} vs ${mesu.aAfterB.mean}`);

  const table = renderTable(rows).split('\n');
  assert.equal(table.length, 2 + rows.length);
  assert.match(table[0]!, /^\| method \| settings \| seeds \| task-A loss after A \| task-A loss after B \| task-B loss after B \|$/);
  table.slice(2).forEach((line, i) => {
    assert.equal(line.split('|').length, 8, line);
    assert.equal(line.includes('±'), rows[i]!.stochastic, line);
  });
});

test('stat: mean and sample standard deviation (n − 1), none for one value', () => {
  assert.deepEqual(stat([2]), { mean: 2, sd: null, n: 1 });
  const s = stat([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.sd! - Math.sqrt(5 / 3)) < 1e-12);
});

test('CLI: bad input is a one-line error with exit code 2; --help works; --json is written atomically', () => {
  const run = (...args: string[]) => {
    let stdout = '', stderr = '';
    const status = main(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
    return { status, stdout, stderr };
  };
  for (const args of [['--seeds', '1,x'], ['--seeds', '1,1'], ['--seeds', ''], ['--seeds'], ['--bogus'], ['extra'], ['--json', '/nonexistent-dir/x.json']]) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, r.stderr); // one line and its newline
    assert.match(r.stderr, /^synapse-compare: error: /);
  }
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--seeds <list>/);

  const dir = mkdtempSync(join(tmpdir(), 'synapse-compare-'));
  try {
    const file = join(dir, 'out.json');
    const r = run('--seeds', '3', '--json', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| MESU \| σp 0.8, N 1000/);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { seeds: number[]; rows: { method: string }[] };
    assert.deepEqual(json.seeds, [3]);
    assert.equal(json.rows.length, 5);
    assert.deepEqual(readdirSync(dir), ['out.json'], 'no temp file left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The compiled script itself: the exit code reaches the process.
  const child = spawnSync(process.execPath, [script, '--seeds', 'x'], { encoding: 'utf8' });
  assert.equal(child.status, 2, child.stderr);
  assert.match(child.stderr, /^synapse-compare: error: .*--seeds/);
});
