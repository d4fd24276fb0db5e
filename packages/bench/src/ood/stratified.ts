/**
 * Stratified subsets of a training split: `round(share · N)` frames chosen so that each instrument
 * class keeps its share of the objects (target `share · total_c`), as the paper's few-shot
 * fine-tuning on "stratified shares" of the OOD training split needs.
 *
 * Frames hold several classes at once (multi-label), so there is no exact per-class draw. Frames
 * are grouped by the multiset of their classes (their signature; few distinct ones), a greedy pass
 * adds the signature that brings the class counts closest to their targets (sum of squared
 * deviations), and a swap pass exchanges a chosen signature for an unchosen one while that lowers
 * the deviation. Within a signature the frames are taken in a seeded shuffled order, so the subset
 * is deterministic by seed and two seeds give different frames of the same class balance.
 */
import { Rng } from '@rpsam2/data';

/** A frame and the class of each of its instrument objects (repeats allowed). */
export interface StratumFrame {
  id: string;
  classes: readonly string[];
}

/** A chosen subset and how well it keeps the class balance. */
export interface StratifiedSubset {
  share: number;
  /** The chosen frame ids, in the order of `frames`. */
  ids: string[];
  /** Per class: objects in the whole split, the target (share · total) and the objects chosen. */
  classes: { key: string; total: number; target: number; chosen: number }[];
  /** max over classes of |chosen − target|. */
  maxDeviation: number;
}

const MAX_SWEEPS = 200;

/** Chooses `round(share · frames.length)` frames keeping the class balance (see the module comment). */
export function stratifiedSubset(frames: readonly StratumFrame[], share: number, seed: number): StratifiedSubset {
  if (!(share >= 0 && share <= 1)) throw new Error(`stratifiedSubset: share must be in [0, 1], got ${share}`);
  const keys = [...new Set(frames.flatMap((f) => f.classes))].sort();
  const col = new Map(keys.map((k, i) => [k, i]));
  // Signatures: frames with the same class multiset are interchangeable for the balance.
  const sigs: { counts: number[]; frames: number[] }[] = [];
  const bySig = new Map<string, number>();
  const order = Rng.derive('ood-stratified', seed).shuffle([...frames.keys()]);
  for (const i of order) {
    const counts = new Array<number>(keys.length).fill(0);
    for (const k of frames[i].classes) counts[col.get(k)!]++;
    const key = counts.join(',');
    let s = bySig.get(key);
    if (s === undefined) {
      bySig.set(key, (s = sigs.length));
      sigs.push({ counts, frames: [] });
    }
    sigs[s].frames.push(i);
  }
  const total = keys.map((_, c) => sigs.reduce((a, s) => a + s.counts[c] * s.frames.length, 0));
  const target = total.map((t) => share * t);
  const n = Math.round(share * frames.length);
  const taken = new Array<number>(sigs.length).fill(0);
  const have = new Array<number>(keys.length).fill(0);
  // Change of the squared deviation when signature `s` is added (sign +1) or removed (−1).
  const delta = (s: number, sign: number) => sigs[s].counts.reduce((a, x, c) => a + (x ? (have[c] + sign * x - target[c]) ** 2 - (have[c] - target[c]) ** 2 : 0), 0);
  const apply = (s: number, sign: number) => {
    taken[s] += sign;
    sigs[s].counts.forEach((x, c) => (have[c] += sign * x));
  };
  for (let k = 0; k < n; k++) {
    let best = -1;
    let bestD = Infinity;
    for (let s = 0; s < sigs.length; s++) {
      if (taken[s] >= sigs[s].frames.length) continue;
      const d = delta(s, 1);
      if (d < bestD - 1e-12) [best, bestD] = [s, d];
    }
    apply(best, 1);
  }
  for (let sweep = 0, improved = true; improved && sweep < MAX_SWEEPS; sweep++) {
    improved = false;
    for (let a = 0; a < sigs.length; a++) {
      for (let b = 0; b < sigs.length && taken[a] > 0; b++) {
        if (a === b || taken[b] >= sigs[b].frames.length) continue;
        const before = have.reduce((acc, h, c) => acc + (h - target[c]) ** 2, 0);
        apply(a, -1);
        apply(b, 1);
        const after = have.reduce((acc, h, c) => acc + (h - target[c]) ** 2, 0);
        if (after < before - 1e-9) improved = true;
        else {
          apply(b, -1);
          apply(a, 1);
        }
      }
    }
  }
  const chosen = new Set(sigs.flatMap((s, i) => s.frames.slice(0, taken[i])));
  const classes = keys.map((key, c) => ({ key, total: total[c], target: target[c], chosen: have[c] }));
  return {
    share,
    ids: frames.filter((_, i) => chosen.has(i)).map((f) => f.id),
    classes,
    maxDeviation: classes.reduce((m, x) => Math.max(m, Math.abs(x.chosen - x.target)), 0),
  };
}
