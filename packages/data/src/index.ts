/**
 * `@rpsam2/data`: the data code that the bench (`@rpsam2/bench`, Node) and the labeling page
 * (`@rpsam2/studio`, browser) share, so that neither reaches into the other's sources:
 *
 * - class lists: Cataract-1k's 10 instrument classes (the paper's Table 1 order and
 *   abbreviations) and anatomy classes with robust title matching, and CaDIS's raw and Task II
 *   classes with the official split;
 * - annotation formats: Supervisely and COCO readers (the layouts Cataract-1k ships and the
 *   studio exports), exact polygon rasterisation, and the issue log that names each bad file;
 * - binary masks ({@link BinaryMask}) and their checks;
 * - the seeded PRNG ({@link Rng}) behind every random draw of the protocol and the generator;
 * - the synthetic surgical frame renderer ({@link renderSyntheticFrame}: eye anatomy, the 10
 *   instruments as procedural shapes, two microscope looks) and the exact mask tracer
 *   ({@link traceMask}: polygons that rasterise back to the same pixels).
 *
 * Pure TypeScript with no Node built-ins: it runs in the page as in Node. The COCO RLE and PNG
 * codecs are `@rpsam2/sam2`'s. Reading datasets from disk and writing them stay in the bench.
 */
export {
  CATARACT1K_INSTRUMENTS,
  CATARACT1K_ANATOMY,
  INSTRUMENT_KEYS,
  normalizeClassTitle,
  resolveCataract1kClass,
  cataract1kClassByKey,
  type ClassInfo,
  type ObjectKind,
} from './classes/cataract1k.js';
export { CADIS_RAW_CLASSES, CADIS_TASK2_CLASSES, CADIS_TASK2_LUT, CADIS_IGNORE, CADIS_OFFICIAL_SPLIT } from './classes/cadis.js';
export { DatasetError, formatIssues, IssueLog, type DatasetIssue, type ObjectShape, type AnnotatedObject } from './annotations/types.js';
export { rasterizeRings, ringArea2, ringProblem, pointInOrOnRing, holeProblem, type Ring } from './annotations/polygon.js';
export { rasterizeShape } from './annotations/rasterize.js';
export { parseCocoInstances, type CocoImage } from './annotations/coco.js';
export { parseSuperviselyAnnotation, type SuperviselyAnnotation } from './annotations/supervisely.js';
export { type BinaryMask, emptyMask, checkMask, checkSameSize, countForeground, masksEqual } from './mask.js';
export { Rng, hashKey } from './rng.js';
export { SyntheticRenderer, renderSyntheticFrame, objectMask, SYNTHETIC_CLASSES, type FrameOptions, type SyntheticFrame, type SyntheticObject } from './synthetic/frame.js';
export { DEFAULT_LOOK, CADIS_LOOK, type FrameLook } from './synthetic/look.js';
export { traceMask, labelComponents4, isConnected4, type TracedPolygon } from './synthetic/trace.js';
export { INSTRUMENT_BUILDERS, type InstrumentPose, type InstrumentBuilder } from './synthetic/instruments.js';
export { Scratch } from './synthetic/scratch.js';
export type { Vec, Material, Part } from './synthetic/shapes.js';
