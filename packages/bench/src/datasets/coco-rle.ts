/**
 * COCO run-length encoding: the codec lives in `@rpsam2/sam2` (mask results export RLE too);
 * re-exported here for the bench's dataset code.
 */
export { decodeRle, encodeRle, type CocoRle } from '@rpsam2/sam2';
