/**
 * Turning stored Uint8 images into float32 model inputs in [0, 1], with a context's input transform applied.
 * Transforms are compiled once into index/weight maps so that a batch costs one gather per pixel
 * (four for rotations): materialising 128 MNIST images takes a fraction of a millisecond.
 */
import type { InputTransform } from '../protocols/types.js';

/**
 * Scale from bytes to [0, 1]. Multiplying by this double and rounding to float32 gives exactly v / 255 for every
 * byte v (checked in the tests), and a multiply is cheaper than a divide or a lookup table.
 */
const INV255 = 1 / 255;

/**
 * A transform ready to apply: `none`, a gather (`out[j] = in[src[j]]`, permutations), or a four-tap bilinear
 * resampling (rotations; taps outside the image have weight 0 = zero fill).
 */
export type CompiledTransform =
  | { kind: 'none'; pixels: number }
  | { kind: 'gather'; pixels: number; src: Int32Array }
  | { kind: 'bilinear'; pixels: number; src: Int32Array; weight: Float32Array };

const rotationCache = new Map<string, CompiledTransform>();

/**
 * Compile `t` for rows×cols images. Rotation maps are cached per (size, angle): every context and batch with
 * the same angle shares one map.
 *
 * @example
 * const ct = compileTransform({ kind: 'rotate', degrees: 45 }, 28, 28);
 * writeImage(ct, mnist.train.images, 0, out, 0);
 */
export function compileTransform(t: InputTransform, rows: number, cols: number): CompiledTransform {
  const pixels = rows * cols;
  switch (t.kind) {
    case 'none':
      return { kind: 'none', pixels };
    case 'permute':
      if (!isPermutation(t.perm, pixels)) throw new RangeError(`perm is not a permutation of 0..${pixels - 1}`);
      return { kind: 'gather', pixels, src: t.perm };
    case 'rotate': {
      const key = `${rows}x${cols}@${t.degrees}`;
      let ct = rotationCache.get(key);
      if (ct === undefined) {
        ct = rotationMap(t.degrees, rows, cols);
        rotationCache.set(key, ct);
      }
      return ct;
    }
  }
}

/**
 * Write image `index` of `images` (back-to-back rows×cols bytes), transformed and scaled to [0, 1], into
 * `out[offset .. offset + pixels)`.
 */
export function writeImage(ct: CompiledTransform, images: Uint8Array, index: number, out: Float32Array, offset: number): void {
  // One small function per kind: each stays monomorphic, so V8 optimises its loop on its own.
  switch (ct.kind) {
    case 'none':
      return copyScaled(ct.pixels, images, index * ct.pixels, out, offset);
    case 'gather':
      return gatherScaled(ct.src, images, index * ct.pixels, out, offset);
    case 'bilinear':
      return resample(ct.src, ct.weight, images, index * ct.pixels, out, offset);
  }
}

function copyScaled(n: number, images: Uint8Array, base: number, out: Float32Array, offset: number): void {
  // A plain loop: as fast here as a native `out.set(subarray)` plus a scaling pass, without allocating a view.
  for (let j = 0; j < n; j++) out[offset + j] = images[base + j]! * INV255;
}

function gatherScaled(src: Int32Array, images: Uint8Array, base: number, out: Float32Array, offset: number): void {
  for (let j = 0, n = src.length; j < n; j++) out[offset + j] = images[base + src[j]!]! * INV255;
}

function resample(src: Int32Array, weight: Float32Array, images: Uint8Array, base: number, out: Float32Array, offset: number): void {
  // Weights already include the 1/255 scale; zero-weight taps point at pixel 0 (harmless reads).
  for (let j = 0, k = 0, n = src.length >> 2; j < n; j++, k += 4) {
    out[offset + j] =
      weight[k]! * images[base + src[k]!]! + weight[k + 1]! * images[base + src[k + 1]!]! +
      weight[k + 2]! * images[base + src[k + 2]!]! + weight[k + 3]! * images[base + src[k + 3]!]!;
  }
}

/**
 * Materialise the images at `indices` as a batch: indices.length × pixels float32 in [0, 1].
 *
 * @example
 * const x = materialise(compileTransform({ kind: 'none' }, 28, 28), mnist.test.images, new Int32Array([0, 1]));
 * x.length; // 1568
 */
export function materialise(ct: CompiledTransform, images: Uint8Array, indices: Int32Array): Float32Array {
  const out = new Float32Array(indices.length * ct.pixels);
  for (let i = 0; i < indices.length; i++) writeImage(ct, images, indices[i]!, out, i * ct.pixels);
  return out;
}

/**
 * Bilinear sampling map for a rotation by `degrees` counter-clockwise (as seen on screen, like torchvision's
 * `rotate`) about the image centre ((cols-1)/2, (rows-1)/2): each output pixel reads the input at the
 * inversely rotated position.
 */
function rotationMap(degrees: number, rows: number, cols: number): CompiledTransform {
  const pixels = rows * cols;
  const src = new Int32Array(pixels * 4);
  const weight = new Float32Array(pixels * 4);
  // Multiples of 90° on a square image move whole pixels: compiled as a gather, they are exact (no rounding
  // through the 1/255-scaled weights) and cheaper.
  const gather = new Int32Array(pixels);
  let exact = true;
  const th = (degrees * Math.PI) / 180;
  const c = Math.cos(th);
  const s = Math.sin(th);
  const cx = (cols - 1) / 2;
  const cy = (rows - 1) / 2;
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const dx = q - cx;
      const dy = r - cy; // y grows downwards, so a screen-CCW rotation has this sign pattern
      const x = snap(cx + c * dx - s * dy);
      const y = snap(cy + s * dx + c * dy);
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      const j = r * cols + q;
      const taps: [number, number, number][] = [
        [y0, x0, (1 - fy) * (1 - fx)], [y0, x0 + 1, (1 - fy) * fx],
        [y0 + 1, x0, fy * (1 - fx)], [y0 + 1, x0 + 1, fy * fx],
      ];
      taps.forEach(([ty, tx, w], t) => {
        const inside = ty >= 0 && ty < rows && tx >= 0 && tx < cols && w > 0;
        src[4 * j + t] = inside ? ty * cols + tx : 0;
        weight[4 * j + t] = inside ? w / 255 : 0;
      });
      const whole = fx === 0 && fy === 0 && y0 >= 0 && y0 < rows && x0 >= 0 && x0 < cols;
      if (whole) gather[j] = y0 * cols + x0;
      else exact = false;
    }
  }
  return exact ? { kind: 'gather', pixels, src: gather } : { kind: 'bilinear', pixels, src, weight };
}

/** Round coordinates that are integers up to floating-point noise (cos 90° ≠ 0), so 90° turns are exact. */
function snap(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-9 ? r : v;
}

/** Whether `p` holds each of 0..n-1 exactly once. */
export function isPermutation(p: Int32Array, n: number): boolean {
  if (p.length !== n) return false;
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = p[i]!;
    if (v < 0 || v >= n || seen[v] === 1) return false;
    seen[v] = 1;
  }
  return true;
}
