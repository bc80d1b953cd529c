import test from 'node:test';
import assert from 'node:assert/strict';
import { loadMnist } from '../data/index.js';
import { dreamReport, imageGridSvg } from './dream-report.js';

test('dreams of a briefly trained generative PC network are mostly labelled as their clamped class by a backprop classifier', () => {
  const r = dreamReport(loadMnist(), { iters: 400, classifierIters: 300, perClass: 20, shownPerClass: 2, temperature: 1, seed: 3 });
  assert.ok(r.classifierTestAccuracy > 0.85, `classifier test accuracy ${r.classifierTestAccuracy}`);
  assert.ok(r.labelledAsClamped > 0.6, `labelled as the clamped class: ${r.labelledAsClamped}`);
  assert.equal(r.labelledAsClampedPerClass.length, 10);
  assert.ok(Math.abs(r.labelledAsClampedPerClass.reduce((s, v) => s + v, 0) / 10 - r.labelledAsClamped) < 1e-12);
  assert.ok(r.withinClassPixelSd > 0, 'temperature 1 varies the dreams of a class');
  assert.equal(r.shown.length, 10 * 2 * 784);
  assert.ok(r.generator.spread.every((s) => s > 0));
});

test('the image grid has one square per inked pixel, placed in its image\'s cell', () => {
  const img = new Float32Array(2 * 4);
  img[0] = 1; // image 0, pixel (0, 0)
  img[4 + 3] = 0.5; // image 1, pixel (1, 1)
  img[4 + 1] = 0.01; // below the ink threshold
  const svg = imageGridSvg(img, 2, 2, 3);
  const squares = [...svg.matchAll(/<rect x="(\d+)" y="(\d+)" width="3" height="3" fill="(#[0-9a-f]{6})"\/>/g)];
  assert.equal(squares.length, 2);
  assert.deepEqual(squares.map((m) => [Number(m[1]), Number(m[2]), m[3]]), [[6, 6, '#000000'], [6 + 12 + 3, 6 + 3, '#808080']]);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="30" height="18"/);
});
