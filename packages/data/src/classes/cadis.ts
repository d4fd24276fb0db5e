/**
 * CaDIS classes: the 36 raw label ids and the Task II mapping (17 classes + ignore 255).
 *
 * Sources: Grammatikopoulou et al., "CaDIS: Cataract dataset for surgical RGB-image
 * segmentation", Medical Image Analysis 71 (2021) 102053, arXiv:1906.11586 (Tasks I–III, which
 * merge handles with their instruments and put rare classes in an ignore label); the table below
 * follows the experiment-2 remapping of the benchmark code of Pissas, Ravasio et al.
 * ("Effective semantic segmentation in cataract surgery: what matters most?", MICCAI 2021),
 * github.com/RViMLab/MICCAI2021_Cataract_semantic_segmentation, `utils/defaults.py`
 * (`class_remapping_exp2`, `classes_exp2`, and `DATA_SPLITS` for the official split).
 */
import type { ClassInfo } from './cataract1k.js';

/** The raw label ids 0–35 and their names. */
export const CADIS_RAW_CLASSES: readonly string[] = [
  'Pupil',
  'Surgical Tape',
  'Hand',
  'Eye Retractors',
  'Iris',
  'Skin',
  'Cornea',
  'Hydrodissection Cannula',
  'Viscoelastic Cannula',
  'Capsulorhexis Cystotome',
  'Rycroft Cannula',
  'Bonn Forceps',
  'Primary Knife',
  'Phacoemulsifier Handpiece',
  'Lens Injector',
  'I/A Handpiece',
  'Secondary Knife',
  'Micromanipulator',
  'I/A Handpiece Handle',
  'Capsulorhexis Forceps',
  'Rycroft Cannula Handle',
  'Phacoemulsifier Handpiece Handle',
  'Capsulorhexis Cystotome Handle',
  'Secondary Knife Handle',
  'Lens Injector Handle',
  'Suture Needle',
  'Needle Holder',
  'Charleux Cannula',
  'Primary Knife Handle',
  'Vitrectomy Handpiece',
  'Mendez Ring',
  'Marker',
  'Hydrodissection Cannula Handle',
  'Troutman Forceps',
  'Cotton',
  'Iris Hooks',
];

/** The ignore label of the task mappings. */
export const CADIS_IGNORE = 255;

/** Task II classes (ids 0–16), with their kind; keys are the names. */
export const CADIS_TASK2_CLASSES: readonly ClassInfo[] = [
  { key: 'Pupil', name: 'Pupil', kind: 'anatomy' },
  { key: 'Surgical Tape', name: 'Surgical Tape', kind: 'other' },
  { key: 'Hand', name: 'Hand', kind: 'other' },
  { key: 'Eye Retractors', name: 'Eye Retractors', kind: 'other' },
  { key: 'Iris', name: 'Iris', kind: 'anatomy' },
  { key: 'Skin', name: 'Skin', kind: 'anatomy' },
  { key: 'Cornea', name: 'Cornea', kind: 'anatomy' },
  { key: 'Cannula', name: 'Cannula', kind: 'instrument' },
  { key: 'Cap. Cystotome', name: 'Capsulorhexis Cystotome', kind: 'instrument' },
  { key: 'Tissue Forceps', name: 'Tissue Forceps', kind: 'instrument' },
  { key: 'Primary Knife', name: 'Primary Knife', kind: 'instrument' },
  { key: 'Ph. Handpiece', name: 'Phacoemulsifier Handpiece', kind: 'instrument' },
  { key: 'Lens Injector', name: 'Lens Injector', kind: 'instrument' },
  { key: 'I/A Handpiece', name: 'I/A Handpiece', kind: 'instrument' },
  { key: 'Secondary Knife', name: 'Secondary Knife', kind: 'instrument' },
  { key: 'Micromanipulator', name: 'Micromanipulator', kind: 'instrument' },
  { key: 'Cap. Forceps', name: 'Capsulorhexis Forceps', kind: 'instrument' },
];

/** Task II id → the raw ids it merges (255: the raw ids ignored in Task II). */
const TASK2_GROUPS: Readonly<Record<number, readonly number[]>> = {
  0: [0],
  1: [1],
  2: [2],
  3: [3],
  4: [4],
  5: [5],
  6: [6],
  7: [7, 8, 10, 20, 27, 32], // cannulas (hydrodissection, viscoelastic, Rycroft, Charleux) and their handles
  8: [9, 22], // capsulorhexis cystotome + handle
  9: [11, 33], // Bonn and Troutman forceps
  10: [12, 28], // primary knife + handle
  11: [13, 21], // phacoemulsifier handpiece + handle
  12: [14, 24], // lens injector + handle
  13: [15, 18], // I/A handpiece + handle
  14: [16, 23], // secondary knife + handle
  15: [17], // micromanipulator
  16: [19], // capsulorhexis forceps
  [CADIS_IGNORE]: [25, 26, 29, 30, 31, 34, 35], // suture needle, needle holder, vitrectomy, Mendez ring, marker, cotton, iris hooks
};

/** Lookup table raw id (0–35) → Task II id (0–16 or 255); 256 entries, ids above 35 map to 255. */
export const CADIS_TASK2_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256).fill(CADIS_IGNORE);
  const seen = new Set<number>();
  for (const [task, raws] of Object.entries(TASK2_GROUPS)) {
    for (const r of raws) {
      if (seen.has(r)) throw new Error(`CaDIS Task II table: raw id ${r} mapped twice`);
      seen.add(r);
      lut[r] = Number(task);
    }
  }
  if (seen.size !== CADIS_RAW_CLASSES.length) throw new Error(`CaDIS Task II table covers ${seen.size} of ${CADIS_RAW_CLASSES.length} raw ids`);
  return lut;
})();

/** The official video split (CaDIS paper; `DATA_SPLITS` train–val–test of the code above). */
export const CADIS_OFFICIAL_SPLIT: Readonly<Record<'train' | 'val' | 'test', readonly number[]>> = {
  train: [1, 3, 4, 6, 8, 9, 10, 11, 13, 14, 15, 17, 18, 19, 20, 21, 23, 24, 25],
  val: [5, 7, 16],
  test: [2, 12, 22],
};
