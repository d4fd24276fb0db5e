/**
 * The synthetic CaDIS-like domain written in CaDIS's layout, so that `openCadis` reads it like the
 * real dataset: `Video<NN>/Images/<frame>.png` (RGB) and `Video<NN>/Labels/<frame>.png` (8-bit
 * raw CaDIS label ids). Each of the generator's 10 instrument shapes stands for one of CaDIS's
 * 10 Task II instrument classes (the closest tool: the gauge is a cannula, the spatula a
 * micromanipulator, …) and is written with a raw id of that class; the eye is pupil (0) inside
 * the cornea (6) on skin (5). Videos take the official split's numbers, so the loader's official
 * split puts each case where the generator meant it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CADIS_OFFICIAL_SPLIT, CADIS_TASK2_CLASSES, CADIS_TASK2_LUT, type SyntheticFrame } from '@rpsam2/data';
import { encodePng } from '../datasets/png.js';

/** Generator shape key → the raw CaDIS id written for it (its Task II class in the comment). */
export const SYNTHETIC_TO_CADIS_RAW: Readonly<Record<string, number>> = {
  G: 7, // Hydrodissection Cannula → Cannula
  CC: 9, // Capsulorhexis Cystotome → Cap. Cystotome
  KF: 11, // Bonn Forceps → Tissue Forceps
  IK: 12, // Primary Knife
  PhT: 13, // Phacoemulsifier Handpiece → Ph. Handpiece
  LI: 14, // Lens Injector
  IA: 15, // I/A Handpiece
  SK: 16, // Secondary Knife
  S: 17, // Micromanipulator
  CF: 19, // Capsulorhexis Forceps → Cap. Forceps
};

const RAW_PUPIL = 0;
const RAW_SKIN = 5;
const RAW_CORNEA = 6;

/** The CaDIS Task II class key of a generator shape key. */
export function cadisClassOf(shapeKey: string): string {
  const raw = SYNTHETIC_TO_CADIS_RAW[shapeKey];
  if (raw === undefined) throw new Error(`synthetic CaDIS: no CaDIS class for shape '${shapeKey}'`);
  return CADIS_TASK2_CLASSES[CADIS_TASK2_LUT[raw]].key;
}

/**
 * Video numbers for the cases in order (train cases first, then val, then test): the official
 * split's videos of each part, so that `openCadis` splits them as generated.
 */
export function cadisVideoNumbers(train: number, val: number, test: number): number[] {
  const take = (part: 'train' | 'val' | 'test', n: number) => {
    const ids = CADIS_OFFICIAL_SPLIT[part];
    if (n > ids.length) throw new Error(`synthetic CaDIS: at most ${ids.length} ${part} videos (the official split has ${ids.length}), got ${n}`);
    return ids.slice(0, n);
  };
  return [...take('train', train), ...take('val', val), ...take('test', test)];
}

/** The folder name of a video (`Video01`). */
export function cadisVideoName(video: number): string {
  return `Video${String(video).padStart(2, '0')}`;
}

/** The frame's raw label map: skin, cornea, pupil, then the visible instruments on top. */
export function cadisLabelMap(frame: SyntheticFrame): Uint8Array {
  const { width: W } = frame;
  const labels = new Uint8Array(frame.width * frame.height).fill(RAW_SKIN);
  // Anatomy first (cornea under pupil), instruments last: their visible regions do not overlap.
  const order = [...frame.objects].sort((a, b) => rank(a.classKey) - rank(b.classKey));
  for (const o of order) {
    const id = o.kind === 'instrument' ? SYNTHETIC_TO_CADIS_RAW[o.classKey] : o.classKey === 'pupil' ? RAW_PUPIL : RAW_CORNEA;
    for (let y = 0; y < o.box.h; y++) {
      for (let x = 0; x < o.box.w; x++) if (o.crop[y * o.box.w + x]) labels[(o.box.y0 + y) * W + o.box.x0 + x] = id;
    }
  }
  return labels;
}

function rank(key: string): number {
  return key === 'cornea' ? 0 : key === 'pupil' ? 1 : 2;
}

/** Writes one frame's image and label map into `<root>/<video>/Images|Labels/<fileName>`. */
export async function writeCadisFrame(root: string, video: string, fileName: string, frame: SyntheticFrame): Promise<void> {
  const imgDir = join(root, video, 'Images');
  const labDir = join(root, video, 'Labels');
  await mkdir(imgDir, { recursive: true });
  await mkdir(labDir, { recursive: true });
  await writeFile(join(imgDir, fileName), encodePng({ width: frame.width, height: frame.height, channels: 3, data: frame.rgb }));
  await writeFile(join(labDir, fileName), encodePng({ width: frame.width, height: frame.height, channels: 1, data: cadisLabelMap(frame) }));
}
