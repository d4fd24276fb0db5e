/**
 * Writes a synthetic dataset in Cataract-1k's layout, so that `openCataract1k` reads it like the
 * real one:
 *
 * ```
 * <out>/Annotations/Images-and-Supervisely-Annotations/meta.json            (classes)
 * <out>/Annotations/Images-and-Supervisely-Annotations/case_9001/img/case9001_01.png
 * <out>/Annotations/Images-and-Supervisely-Annotations/case_9001/ann/case9001_01.png.json
 * <out>/Annotations/Coco-Annotations/case_9001/annotations/instances.json   (file_name → img/)
 * <out>/splits.json        {"train": [cases], "val": [...], "test": [...]}
 * <out>/synthetic.json     the generator's options, version and per-class counts
 * ```
 *
 * With `domain: 'cadis'` it writes another microscope's frames ({@link CADIS_LOOK}; 960×540 by
 * default) in CaDIS's layout instead (`cadis-layout.ts`: `Video<NN>/Images|Labels`, the CaDIS
 * instrument classes, videos numbered by the official split), read by `openCadis`.
 *
 * Deterministic by seed: frame g (in case-major order) is drawn from `Rng.derive(seed, 'frame', g)`
 * and its primary instrument from a shuffled cycle of the 10 classes per block of 10 frames, so
 * every 10 consecutive frames show every class at least once. Polygons are traced from the
 * visible masks exactly (pixel-edge boundaries), so the loader's rasterisation gives back the
 * generated masks pixel for pixel. In COCO, a region with holes is written as RLE (COCO
 * polygons cannot hold holes), otherwise as a polygon; category ids are shuffled per case, as in
 * the real dataset.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureOutputDir } from '@rpsam2/tensor/node';
import { CATARACT1K_ANATOMY, CATARACT1K_INSTRUMENTS, Rng, SYNTHETIC_CLASSES, SyntheticRenderer, type FrameOptions, type SyntheticFrame, CADIS_LOOK, DEFAULT_LOOK, traceMask, type TracedPolygon, rasterizeRings } from '@rpsam2/data';
import { encodeRle } from '../datasets/coco-rle.js';
import { isDir } from '../datasets/fs-util.js';
import { encodePng } from '../datasets/png.js';
import { cadisClassOf, cadisVideoName, cadisVideoNumbers, writeCadisFrame } from './cadis-layout.js';

/** The generator's version, written into `synthetic.json` (bump when frames change). */
export const SYNTHETIC_VERSION = 1;

/** The synthetic domains: the default one (Cataract-1k layout) and another microscope in CaDIS's layout. */
export type SyntheticDomain = 'cataract1k' | 'cadis';

/** Options of {@link generateSyntheticDataset}. */
export interface SyntheticDatasetOptions {
  /** Default 0. */
  seed?: number;
  /** The domain (default 'cataract1k'); 'cadis' changes the look, the default size and the layout. */
  domain?: SyntheticDomain;
  /** Number of cases (videos); default 6. */
  cases?: number;
  /** Frames per case; default 10. */
  framesPerCase?: number;
  /** Frame size; default 1024×768 (domain 'cadis': 960×540, CaDIS's frame size). */
  width?: number;
  height?: number;
  /** Instruments per frame, inclusive range; default 1–3. */
  minInstruments?: number;
  maxInstruments?: number;
  /** Probability that a secondary instrument's tip is placed over another's (default 0.35). */
  occlusion?: number;
  /** Cases in val and test; default ⌊cases/5⌋ each, test at least 1 (when cases ≥ 2). */
  valCases?: number;
  testCases?: number;
  /** Also write the COCO variant (default true). */
  coco?: boolean;
  /** Number of the first case folder (default 9001: `case_9001`). */
  firstCase?: number;
  /** Replace an existing synthetic dataset in `out` (only one with our `synthetic.json`). */
  overwrite?: boolean;
  /** Called after each frame. */
  onFrame?: (info: { index: number; total: number; id: string; ms: number }) => void;
}

/** What was written. */
export interface SyntheticDatasetSummary {
  root: string;
  frames: number;
  cases: string[];
  split: { train: string[]; val: string[]; test: string[] };
  /** Instrument objects per class key. */
  instruments: Record<string, number>;
  /** Instruments partly hidden by another. */
  occludedInstruments: number;
  seconds: number;
  msPerFrame: number;
}

/** Generates a dataset into `out` (created if needed; see the module documentation). */
export async function generateSyntheticDataset(out: string, options: SyntheticDatasetOptions = {}): Promise<SyntheticDatasetSummary> {
  const o = resolveOptions(options);
  const t0 = performance.now();
  // Creates `out` step by step and checks it is writable (a recursive mkdir under /proc spins forever).
  await ensureOutputDir(out);
  const marker = join(out, 'synthetic.json');
  const annRoot = join(out, 'Annotations');
  if (await isDir(annRoot)) await refuseOrClear(annRoot, marker, o.overwrite);
  const cadis = o.domain === 'cadis';
  const supRoot = join(annRoot, 'Images-and-Supervisely-Annotations');
  const cocoRoot = join(annRoot, 'Coco-Annotations');
  const videos = cadis ? cadisVideoNumbers(o.cases - o.valCases - o.testCases, o.valCases, o.testCases) : [];
  if (cadis) {
    for (const v of videos) if (await isDir(join(out, cadisVideoName(v)))) await refuseOrClear(join(out, cadisVideoName(v)), marker, o.overwrite);
  } else {
    await mkdir(supRoot, { recursive: true });
    await writeFile(join(supRoot, 'meta.json'), JSON.stringify(projectMeta(), null, 1));
  }

  const renderer = new SyntheticRenderer();
  const cases: string[] = [];
  const instruments: Record<string, number> = Object.fromEntries(SYNTHETIC_CLASSES.map((k) => [cadis ? cadisClassOf(k) : k, 0]));
  let occluded = 0;
  const total = o.cases * o.framesPerCase;
  for (let c = 0; c < o.cases; c++) {
    const num = o.firstCase + c;
    const caseName = cadis ? cadisVideoName(videos[c]) : `case_${num}`;
    cases.push(caseName);
    const imgDir = join(supRoot, caseName, 'img');
    const annDir = join(supRoot, caseName, 'ann');
    if (!cadis) {
      await mkdir(imgDir, { recursive: true });
      await mkdir(annDir, { recursive: true });
    }
    const coco = cocoBuilder(Rng.derive(o.seed, 'coco-categories', num));
    for (let f = 0; f < o.framesPerCase; f++) {
      const t1 = performance.now();
      const g = c * o.framesPerCase + f;
      const frame = renderer.render(syntheticFrameOptions(o, g));
      const fileName = cadis ? `${caseName}_frame${String(f + 1).padStart(3, '0')}.png` : `case${num}_${String(f + 1).padStart(2, '0')}.png`;
      if (cadis) await writeCadisFrame(out, caseName, fileName, frame);
      else {
        const objects = annotate(frame);
        await writeFile(join(imgDir, fileName), encodePng({ width: frame.width, height: frame.height, channels: 3, data: frame.rgb }));
        await writeFile(join(annDir, `${fileName}.json`), JSON.stringify(superviselyJson(frame, objects, o.seed)));
        if (o.coco) coco.addImage(fileName, frame, objects);
      }
      for (const ob of frame.objects) {
        if (ob.kind !== 'instrument') continue;
        instruments[cadis ? cadisClassOf(ob.classKey) : ob.classKey]++;
        if (ob.occludedPixels > 0) occluded++;
      }
      o.onFrame?.({ index: g, total, id: `${caseName}/${fileName}`, ms: performance.now() - t1 });
    }
    if (o.coco && !cadis) {
      const dir = join(cocoRoot, caseName, 'annotations');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'instances.json'), JSON.stringify(coco.json()));
    }
  }

  const split = splitCases(cases, o);
  await writeFile(join(out, 'splits.json'), JSON.stringify({ format: 'rpsam2-split/1', description: `synthetic dataset, seed ${o.seed}`, ...split }, null, 1));
  const seconds = (performance.now() - t0) / 1000;
  const summary: SyntheticDatasetSummary = { root: out, frames: total, cases, split, instruments, occludedInstruments: occluded, seconds, msPerFrame: (seconds * 1000) / Math.max(1, total) };
  const { onFrame: _onFrame, overwrite: _overwrite, ...recorded } = o;
  await writeFile(marker, JSON.stringify({ generator: 'rpsam2-synthetic', version: SYNTHETIC_VERSION, options: recorded, instruments, occludedInstruments: occluded, frames: total, split }, null, 1));
  return summary;
}

/** Removes a folder of an earlier synthetic set (with `overwrite`); refuses anything else. */
async function refuseOrClear(dir: string, marker: string, overwrite: boolean): Promise<void> {
  const ours = await readFile(marker, 'utf8').then(
    (t) => (JSON.parse(t) as { generator?: string }).generator === 'rpsam2-synthetic',
    () => false,
  );
  if (!overwrite) throw new Error(`generateSyntheticDataset: ${dir} exists (pass overwrite to replace a synthetic dataset)`);
  if (!ours) throw new Error(`generateSyntheticDataset: ${dir} exists and is not a synthetic dataset (no synthetic.json from this generator); not touching it`);
  await rm(dir, { recursive: true, force: true });
}

type Resolved = Required<Omit<SyntheticDatasetOptions, 'onFrame'>> & Pick<SyntheticDatasetOptions, 'onFrame'>;

function resolveOptions(options: SyntheticDatasetOptions): Resolved {
  const cases = options.cases ?? 6;
  const cadis = options.domain === 'cadis';
  const o: Resolved = {
    seed: options.seed ?? 0,
    domain: options.domain ?? 'cataract1k',
    cases,
    framesPerCase: options.framesPerCase ?? 10,
    width: options.width ?? (cadis ? 960 : 1024),
    height: options.height ?? (cadis ? 540 : 768),
    minInstruments: options.minInstruments ?? 1,
    maxInstruments: options.maxInstruments ?? 3,
    occlusion: options.occlusion ?? 0.35,
    valCases: options.valCases ?? Math.floor(cases / 5),
    testCases: options.testCases ?? (cases >= 2 ? Math.max(1, Math.floor(cases / 5)) : 0),
    coco: options.coco ?? true,
    firstCase: options.firstCase ?? 9001,
    overwrite: options.overwrite ?? false,
    onFrame: options.onFrame,
  };
  const int = (name: keyof Resolved, min: number) => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min) throw new Error(`generateSyntheticDataset: ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int('seed', -2147483648);
  int('cases', 1);
  int('framesPerCase', 1);
  int('width', 32);
  int('height', 32);
  int('minInstruments', 1);
  int('maxInstruments', 1);
  int('valCases', 0);
  int('testCases', 0);
  int('firstCase', 0);
  if (o.maxInstruments < o.minInstruments || o.maxInstruments > 4) throw new Error(`generateSyntheticDataset: instruments per frame must satisfy 1 ≤ min ≤ max ≤ 4, got ${o.minInstruments}–${o.maxInstruments}`);
  if (o.valCases + o.testCases > o.cases) throw new Error(`generateSyntheticDataset: ${o.valCases} val + ${o.testCases} test cases exceed the ${o.cases} cases`);
  if (o.domain !== 'cataract1k' && o.domain !== 'cadis') throw new Error(`generateSyntheticDataset: domain must be cataract1k or cadis, got ${JSON.stringify(o.domain)}`);
  if (!(o.occlusion >= 0 && o.occlusion <= 1)) throw new Error(`generateSyntheticDataset: occlusion must be in [0, 1], got ${o.occlusion}`);
  return o;
}

/** Frames per split of a dataset with these options (by case, as {@link generateSyntheticDataset} splits), without generating it. */
export function syntheticSplitFrames(options: SyntheticDatasetOptions): { train: number; val: number; test: number } {
  const o = resolveOptions(options);
  const nTrain = o.cases - o.valCases - o.testCases;
  return { train: nTrain * o.framesPerCase, val: o.valCases * o.framesPerCase, test: o.testCases * o.framesPerCase };
}

/** What frame g (case-major order) of a dataset with these options is rendered from. */
export function syntheticFrameOptions(options: SyntheticDatasetOptions, g: number): FrameOptions {
  const o = resolveOptions(options);
  const look = o.domain === 'cadis' ? CADIS_LOOK : DEFAULT_LOOK;
  return { width: o.width, height: o.height, seed: Rng.derive(o.seed, 'frame', g).u32(), classes: frameClasses(o, g), occlusion: o.occlusion, look };
}

/** The classes of frame g: the primary from the balanced cycle, then distinct secondaries. */
export function frameClasses(o: { seed: number; minInstruments: number; maxInstruments: number }, g: number): string[] {
  const cycle = Rng.derive(o.seed, 'class-cycle', Math.floor(g / SYNTHETIC_CLASSES.length)).shuffle(SYNTHETIC_CLASSES);
  const primary = cycle[g % SYNTHETIC_CLASSES.length];
  const rng = Rng.derive(o.seed, 'frame-classes', g);
  const n = rng.intIn(o.minInstruments, o.maxInstruments);
  // The lens injector works alone in practice: never a secondary instrument.
  const others = rng.shuffle(SYNTHETIC_CLASSES.filter((k) => k !== primary && k !== 'LI'));
  return [primary, ...others.slice(0, n - 1)];
}

/** Cases in order: the last `testCases` are test, the `valCases` before them val, the rest train. */
function splitCases(cases: string[], o: Resolved): { train: string[]; val: string[]; test: string[] } {
  const nTrain = cases.length - o.valCases - o.testCases;
  return { train: cases.slice(0, nTrain), val: cases.slice(nTrain, nTrain + o.valCases), test: cases.slice(nTrain + o.valCases) };
}

/** One annotation object per traced polygon (several for an anatomy region split by instruments). */
interface FrameObject {
  classTitle: string;
  classKey: string;
  polygon: TracedPolygon;
}

function annotate(frame: SyntheticFrame): FrameObject[] {
  const out: FrameObject[] = [];
  for (const ob of frame.objects) {
    const polys = traceMask({ width: ob.box.w, height: ob.box.h, data: ob.crop });
    if (ob.kind === 'instrument' && polys.length !== 1) throw new Error(`synthetic: instrument ${ob.classKey} traced to ${polys.length} polygons (expected one connected region)`);
    for (const p of polys) {
      const shift = (ring: number[][]) => ring.map(([x, y]) => [x + ob.box.x0, y + ob.box.y0]);
      out.push({ classTitle: ob.classTitle, classKey: ob.classKey, polygon: { exterior: shift(p.exterior), interiors: p.interiors.map(shift), area: p.area } });
    }
  }
  return out;
}

function superviselyJson(frame: SyntheticFrame, objects: FrameObject[], seed: number): unknown {
  const classIds = classIdTable();
  return {
    description: `rpsam2 synthetic frame (seed ${seed})`,
    tags: [],
    size: { height: frame.height, width: frame.width },
    objects: objects.map((o, i) => ({
      id: i + 1,
      classId: classIds.get(o.classTitle),
      description: '',
      geometryType: 'polygon',
      labelerLogin: 'rpsam2-synthetic',
      tags: [],
      classTitle: o.classTitle,
      points: { exterior: o.polygon.exterior, interior: o.polygon.interiors },
    })),
  };
}

const CLASS_COLORS = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff', '#9a6324', '#800000'];

function allClasses() {
  return [...CATARACT1K_INSTRUMENTS, ...CATARACT1K_ANATOMY];
}

function classIdTable(): Map<string, number> {
  return new Map(allClasses().map((c, i) => [c.name, i + 1]));
}

/** Supervisely's project meta: the class list. */
function projectMeta(): unknown {
  return {
    classes: allClasses().map((c, i) => ({ id: i + 1, title: c.name, shape: 'polygon', color: CLASS_COLORS[i % CLASS_COLORS.length] })),
    tags: [],
    projectType: 'images',
  };
}

/** Accumulates one case's COCO file; category ids are a per-case permutation. */
function cocoBuilder(rng: Rng) {
  const classes = allClasses();
  const ids = rng.shuffle(classes.map((_, i) => i + 1));
  const catId = new Map(classes.map((c, i) => [c.name, ids[i]]));
  const images: unknown[] = [];
  const annotations: unknown[] = [];
  return {
    addImage(fileName: string, frame: SyntheticFrame, objects: FrameObject[]) {
      const imageId = images.length + 1;
      images.push({ id: imageId, file_name: fileName, width: frame.width, height: frame.height });
      for (const o of objects) {
        const p = o.polygon;
        const xs = p.exterior.map((q) => q[0]);
        const ys = p.exterior.map((q) => q[1]);
        const x0 = Math.min(...xs);
        const y0 = Math.min(...ys);
        let segmentation: unknown;
        if (p.interiors.length === 0) segmentation = [p.exterior.flat()];
        else {
          const data = rasterizeRings([p.exterior, ...p.interiors], frame.width, frame.height);
          segmentation = encodeRle({ width: frame.width, height: frame.height, data });
        }
        annotations.push({
          id: annotations.length + 1,
          image_id: imageId,
          category_id: catId.get(o.classTitle),
          segmentation,
          area: p.area,
          bbox: [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0],
          iscrowd: 0,
        });
      }
    },
    json() {
      return {
        info: { description: 'rpsam2 synthetic (Cataract-1k layout)', version: String(SYNTHETIC_VERSION) },
        images,
        categories: classes.map((c) => ({ id: catId.get(c.name), name: c.name, supercategory: c.kind })),
        annotations,
      };
    },
  };
}
