/**
 * Dataset loaders for the benchmark: Cataract-1k (segmentation subset, Supervisely or COCO
 * annotations, and our synthetic sets in the same layout) and CaDIS, behind one interface
 * ({@link SegmentationDataset}): frames with their split, objects as binary masks at the frame's
 * resolution, and every problem found, naming the file.
 */
export * from './types.js';
// The class tables and the annotation readers live in `@rpsam2/data` (shared with the studio).
export {
  CATARACT1K_INSTRUMENTS, CATARACT1K_ANATOMY, INSTRUMENT_KEYS, normalizeClassTitle, resolveCataract1kClass, cataract1kClassByKey,
  CADIS_RAW_CLASSES, CADIS_TASK2_CLASSES, CADIS_TASK2_LUT, CADIS_IGNORE, CADIS_OFFICIAL_SPLIT,
  rasterizeRings, ringArea2, ringProblem, rasterizeShape, parseSuperviselyAnnotation, parseCocoInstances,
  type Ring, type SuperviselyAnnotation, type CocoImage,
} from '@rpsam2/data';
export { openCataract1k, Cataract1kDataset, CATARACT1K_CSV_DIR, type Cataract1kOptions, type Cataract1kFrame } from './cataract1k.js';
export { openCadis, CadisDataset, CADIS_MAX_RAW_ID, type CadisOptions, type CadisFrame } from './cadis.js';
export { decodeRle, encodeRle, type CocoRle } from './coco-rle.js';
export { parseSplitJson, parseSplitCsv, applySplitLists, applyCsvSplits, normalizeCaseName, type SplitLists, type CsvFrame } from './splits.js';
export { readRgbImage, readLabelPng, decodeLabelPng, type RgbFrame, type LabelMap } from './image-io.js';
export { encodePng, readPngInfo, isPng, type PngImage, type PngInfo } from './png.js';
