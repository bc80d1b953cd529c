import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The bad-invocation battery: malformed, contradictory or impossible command lines. Every one must exit
 * non-zero within 5 s with one line naming the flag or the file (commander's "(run with --help for usage)" hint
 * aside), no stack trace, nothing on stdout and no file left behind. Each runs in its own empty directory
 * holding two fixtures: bad.json (not JSON) and notresult.json (JSON, not a result file).
 */
const cases: [string, RegExp][] = [
  // Methods and their options.
  ['run --method nope', /unknown method "nope"; available: .*naive/],
  ['run --method', /'--method <name>' argument missing/],
  ['run --method NAIVE', /unknown method "NAIVE"/],
  ['run --set', /'--set <key=value>' argument missing/],
  ['run --set lambda', /--set takes key=value, e\.g\. --set dreams=false/],
  ['run --set =3', /--set takes key=value/],
  ['run --method naive --set foo=1', /naive has no options \(--set foo=… is not used by it\)/],
  ['run --method ewc --set lamda=1', /ewc has no option "lamda"; its options: lambda, /],
  ['run --method ewc --set lambda=-1', /ewc option lambda: must be ≥ 0/],
  ['run --method ewc --set lambda=abc', /ewc option lambda: must be a number/],
  ['run --method ewc-online --set gamma=2', /ewc-online option gamma: must be ≤ 1/],
  ['run --method si --set c=abc', /si option c: must be a number/],
  ['run --method mas --set strength=-1', /mas has no option "strength"; its options: lambda/],
  ['run --method er --set bufferPerClass=-3', /er has no option "bufferPerClass"; its options: budgetPerClass/],
  ['run --method er --set budgetPerClass=0', /er option budgetPerClass: must be positive/],
  ['run --method lwf --set temperature=0', /lwf option temperature: must be positive/],
  ['run --method lwf --set snapshotEvery=10', /lwf option snapshotEvery: applies to task-free streams only/],
  ['run --method gen-classifier --set hidden=0,5', /gen-classifier option hidden: must be comma-separated positive whole numbers/],
  ['run --method gen-classifier --hidden 50', /gen-classifier does not use --hidden; set its VAEs' layer sizes with --set hidden=/],
  ['run --method gpm --set nonsense=1', /gpm has no option "nonsense"; its options: thresholds/],
  ['run --method engram --set viscosity=0', /engram has no option "viscosity"; its options: stmCapacity/],
  ['run --method engram --set dreams=maybe', /engram option dreams: must be true or false/],
  ['run --method engram --set stmCapacity=0', /engram option stmCapacity: must be ≥ 1/],
  ['run --method engram --set stmCapacity=1.5', /engram option stmCapacity: must be a whole number/],
  ['run --method engram --set admitRate=2', /engram option admitRate: must be ≤ 1/],
  ['run --method engram --lr 0.01', /engram does not use --lr; set its sleep learning rate with --set lr=/],
  ['run --method engram --optimizer sgd', /engram does not use --optimizer/],
  // Numbers.
  ['run --seed -1', /--seed: seed must be ≥ 0/],
  ['run --seed x', /--seed must be a whole number/],
  ['run --iters abc', /--iters must be a whole number/],
  ['run --iters 0', /--iters: iters must be positive/],
  ['run --iters -5', /--iters: iters must be positive/],
  ['run --iters 1.5', /--iters must be a whole number/],
  ['run --batch 0', /--batch: batch must be positive/],
  ['run --batch x', /--batch must be a whole number/],
  ['run --batch 100000000', /fewer than --batch 100000000/],
  ['run --lr fast', /--lr must be a number/],
  ['run --lr -1', /--lr: lr must be positive/],
  ['run --lr 0', /--lr: lr must be positive/],
  ['run --lr NaN', /--lr must be a number/],
  ['run --lr Infinity', /--lr must be a number/],
  ['run --momentum 2', /--momentum applies to --optimizer sgd/],
  ['run --optimizer adam --momentum 0.9', /--momentum applies to --optimizer sgd/],
  ['run --optimizer sgd --momentum 2', /--momentum: must be at most 1, e\.g\. 0\.9/],
  ['run --optimizer sgd --momentum -1', /--momentum: must be ≥ 0/],
  ['run --optimizer rmsprop', /'--optimizer <name>' argument 'rmsprop' is invalid\. Allowed choices are adam, sgd/],
  ['run --hidden 0', /--hidden: hidden layer size must be positive/],
  ['run --hidden 400,abc', /--hidden must be comma-separated whole numbers, e\.g\. 400,400/],
  ['run --hidden ,', /--hidden must be comma-separated whole numbers/],
  ['run --hidden 100000000', /--hidden: a 784×100000000 weight matrix .* choose smaller --hidden sizes/],
  ['run --activation swish', /'--activation <fn>' argument 'swish' is invalid/],
  ['run --engine torch', /'--engine <name>' argument 'torch' is invalid/],
  ['run --method er --engine pc', /er learns by backprop only \(--engine bp\); --engine pc runs naive, joint, si/],
  ['run --pc-steps 8', /--pc-steps applies to --engine pc/],
  ['run --pc-incremental', /--pc-incremental applies to --engine pc/],
  ['run --engine pc --pc-steps 0', /--pc-steps: must be ≥ 1/],
  ['run --engine pc --pc-steps 1.5', /--pc-steps must be a whole number/],
  ['run --protocol iid --contexts 3', /iid has one context/],
  ['run --padding -1', /--padding: must be ≥ 0/],
  ['run --padding abc', /--padding must be a whole number/],
  ['run --val-per-context -1', /--val-per-context: must be ≥ 0/],
  ['run --val-per-context 1000000', /holding out --val-per-context 1000000 leaves 0, fewer than --batch 128/],
  ['run --eval-every 0', /--eval-every: eval-every must be positive/],
  ['run --eval-every x', /--eval-every must be a whole number/],
  ['run --curve-samples 0', /--curve-samples: curve-samples must be positive/],
  ['run --curve-samples 100000', /--curve-samples 100000: the largest context has \d+ test images; use at most --curve-samples \d+/],
  ['run --threads 0', /--threads: must be positive/],
  ['run --threads 100000', /--threads 100000: this machine runs \d+ threads? at once; use at most --threads \d+/],
  ['run --threads two', /--threads must be a whole number/],
  // Protocols, streams, contexts.
  ['run --protocol cifar', /Allowed choices are split-mnist, permuted-mnist, rotated-mnist/],
  ['run --scenario both', /'--scenario <s>' argument 'both' is invalid/],
  ['run --stream fuzzy', /'--stream <kind>' argument 'fuzzy' is invalid/],
  ['run --eval-split train', /'--eval-split <split>' argument 'train' is invalid/],
  ['run --bias --no-bias', /--bias and --no-bias contradict each other/],
  ['run --contexts 0', /--contexts: contexts must be positive/],
  ['run --contexts 3', /--contexts: split-mnist has 5 contexts \(pairs of classes\) or 10/],
  ['run --contexts 10 --scenario domain', /--contexts: split-mnist with 10 one-class contexts needs --scenario class/],
  ['run --protocol rotated-mnist --contexts 0', /--contexts: contexts must be positive/],
  ['run --class-order 0,1,2', /--class-order: name all 10 classes, e\.g\. 3,7,0,1,2,4,5,6,8,9, or random/],
  ['run --class-order 0,0,1,2,3,4,5,6,7,8', /--class-order: .*permutation of 0\.\.9/],
  ['run --class-order 0,1,2,3,4,5,6,7,8,10', /--class-order: classes are 0\.\.9, e\.g\. 3,7,0,1,2,4,5,6,8,9/],
  ['run --class-order shuffled', /--class-order must be comma-separated whole numbers, e\.g\. 3,7,0,1,2,4,5,6,8,9, or random/],
  ['run --protocol permuted-mnist --class-order 0,1,2,3,4,5,6,7,8,9', /--class-order: applies to split-mnist only/],
  ['run --fuzziness 100', /--fuzziness applies to --stream task-free/],
  ['run --stream task-free --fuzziness -1', /--fuzziness: fuzziness must be ≥ 0/],
  ['run --stream task-free --iters 100 --fuzziness 60', /--fuzziness 60: the ramps of a task-free stream are at most half a context long, 50 with --iters 100/],
  // Files.
  ['run --data-dir /nonexistent/engram-data', /\/nonexistent\/engram-data: MNIST data directory not found/],
  ['run --data-dir .', /train-images-idx3-ubyte: file not found \(nor train-images-idx3-ubyte\.gz\)/],
  ['run --data-dir @BAD', /bad\.json: MNIST data directory not found/],
  ['run --load /nonexistent/x.engram', /cannot read checkpoint \/nonexistent\/x\.engram/],
  ['run --load .', /cannot read checkpoint \.: EISDIR/],
  ['run --load @BAD', /bad\.json is not an Engram checkpoint/],
  ['run --checkpoint @BAD --resume', /bad\.json is not an Engram checkpoint/],
  ['run --resume', /--resume needs --checkpoint FILE/],
  ['run --checkpoint-every 0', /--checkpoint-every needs --checkpoint FILE/],
  ['run --checkpoint-every 10', /--checkpoint-every needs --checkpoint FILE, e\.g\. --checkpoint run\.ckpt/],
  ['run --checkpoint c.ckpt --checkpoint-every 0', /--checkpoint-every must be positive/],
  ['run --out /nonexistent/engram-out/r.json', /--out \/nonexistent\/engram-out\/r\.json: directory \/nonexistent\/engram-out does not exist/],
  ['run --out .', /--out \.: \. is a directory/],
  ['run --out @BAD/r.json', /--out bad\.json\/r\.json: .*bad\.json is not a directory/],
  ['run --out /proc/engram-r.json', /--out \/proc\/engram-r\.json: directory \/proc is not writable/],
  ['run --save /nonexistent/engram-out/l.save', /--save \/nonexistent\/engram-out\/l\.save: directory \/nonexistent\/engram-out does not exist/],
  ['run --save .', /--save \.: \. is a directory/],
  ['run --checkpoint /nonexistent/engram-out/c.ckpt', /--checkpoint \/nonexistent\/engram-out\/c\.ckpt: directory .* does not exist/],
  ['run --checkpoint .', /--checkpoint \.: \. is a directory/],
  // Commands and arguments.
  ['run extra-arg', /too many arguments for 'run'/],
  ['run --frobnicate', /unknown option '--frobnicate'/],
  ['frobnicate', /unknown command 'frobnicate'/],
  ['compare', /required option '--methods <list>' not specified/],
  ['compare --methods naive', /required option '--seeds <list>' not specified/],
  ['compare --seeds 1', /required option '--methods <list>' not specified/],
  ['compare --methods nope --seeds 1', /unknown method "nope"/],
  ['compare --methods naive --seeds a', /--seeds must be comma-separated whole numbers, e\.g\. 1,2,3/],
  ['compare --methods naive --seeds 1,1', /--seeds names seed 1 twice/],
  ['compare --methods naive,naive --seeds 1', /--methods names naive twice/],
  ['compare --methods naive --seeds 1 --method er', /--method is set by compare: use --methods/],
  ['compare --methods naive --seeds 1 --seed 2', /--seed is set by compare: use --seeds/],
  ['compare --methods naive --seeds 1 --out x.json', /--out is set by compare: use --out-dir/],
  ['compare --methods naive --seeds 1 --jobs 0', /--jobs must be a positive whole number/],
  ['compare --methods naive --seeds 1 --jobs x', /--jobs must be a positive whole number/],
  ['compare --methods naive --seeds 1 --iters 0', /--iters: iters must be positive/],
  ['compare --methods ewc --seeds 1 --set lamda=1', /ewc has no option "lamda"/],
  ['compare --methods naive --seeds 1 --out-dir @BAD/sub', /cannot create --out-dir bad\.json\/sub: ENOTDIR/],
  ['compare --methods naive --seeds 1 --protocol cifar', /Allowed choices are split-mnist, permuted-mnist, rotated-mnist/],
  ['compare --methods naive --seeds 1 --bias --no-bias', /--bias and --no-bias contradict each other/],
  ['reproduce', /missing required argument 'result\.json'/],
  ['reproduce /nonexistent/r.json', /cannot read \/nonexistent\/r\.json: ENOENT/],
  ['reproduce .', /cannot read \.: EISDIR/],
  ['reproduce @BAD', /bad\.json is not JSON \(a result file of engram run --out is\)/],
  ['reproduce @NOTRESULT', /notresult\.json is not a result file: accuracyMatrix: is missing/],
  ['reproduce @BAD --threads 0', /--threads must be a positive whole number/],
  ['reproduce @BAD --out /nonexistent/engram-out/r.json', /bad\.json is not JSON|--out \/nonexistent\/engram-out\/r\.json/],
  ['plot-curves', /required option '--out <file\.svg>' not specified/],
  ['plot-curves /nonexistent/r.json --out p.svg', /\/nonexistent\/r\.json: no such file/],
  ['plot-curves @BAD --out p.svg', /bad\.json is not JSON/],
  ['plot-curves @NOTRESULT --out p.svg', /notresult\.json is not a result file with an online curve \(method: is missing\)/],
  ['plot-curves @BAD --out /nonexistent/engram-out/p.svg', /--out \/nonexistent\/engram-out\/p\.svg: directory \/nonexistent\/engram-out does not exist/],
  ['plot-curves /nonexistent/r.json --out .', /--out \.: \. is a directory/],
];

const cli = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const FIXTURES = ['bad.json', 'notresult.json'];

interface Outcome { status: number | null; ms: number; stdout: string; stderr: string; left: string[] }

function invoke(line: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-bad-'));
  writeFileSync(join(dir, 'bad.json'), '{"not json');
  writeFileSync(join(dir, 'notresult.json'), '{"hello": 1}\n');
  const args = line.split(' ').map((a) => a.replace('@BAD', 'bad.json').replace('@NOTRESULT', 'notresult.json'));
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [cli, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A case that hangs is killed after 15 s and fails on its time.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      const left = readdirSync(dir).filter((f) => !FIXTURES.includes(f));
      rmSync(dir, { recursive: true, force: true });
      resolve({ status, ms: Date.now() - t0, stdout, stderr, left });
    });
  });
}

test(`bad-invocation battery (${cases.length} cases): non-zero within 5 s, one line naming the flag or file, nothing left behind`, async () => {
  assert.ok(cases.length >= 80);
  const failures: string[] = [];
  const queue = [...cases];
  // Three at a time: the cases are independent, and the suite must stay short on a 2-core machine.
  await Promise.all([0, 1, 2].map(async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      const [line, pattern] = c;
      const r = await invoke(line);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && l !== '(run with --help for usage)');
      const problems = [
        r.status === 0 || r.status === null ? `exit ${r.status}` : '',
        r.ms > 5000 ? `took ${r.ms} ms` : '',
        lines.length !== 1 ? `${lines.length} stderr lines` : '',
        pattern.test(lines[0] ?? '') ? '' : `message does not match ${pattern}`,
        /\n\s+at /.test(r.stderr) ? 'stack trace' : '',
        r.stdout !== '' ? 'wrote to stdout' : '',
        r.left.length > 0 ? `left ${r.left.join(', ')}` : '',
      ].filter((p) => p !== '');
      if (problems.length > 0) failures.push(`engram ${line}: ${problems.join('; ')}\n    stderr: ${r.stderr.trim().replace(/\n/g, ' | ')}`);
    }
  }));
  assert.deepEqual(failures, []);
});
