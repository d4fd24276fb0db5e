/**
 * Choosing one of SAM 2's multimask outputs per click by its predicted IoU is SAM 2's own
 * convention: it lives in `@rpsam2/sam2` (predictor/best-mask.ts) with the rest of the
 * click-to-mask path. These names stay here for code that imports them from this module.
 */
export { selectByIou, oneHotToIndices, type Selection } from '@rpsam2/sam2';
