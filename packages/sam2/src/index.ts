/**
 * @rpsam2/sam2 — SAM 2's image path on `@rpsam2/tensor` (in progress).
 *
 * Will hold: the Hiera image encoder and FPN neck, the prompt encoder (points, boxes, mask input),
 * the two-way-transformer mask decoder, image preprocessing (resize with antialias, ImageNet
 * normalisation), and loading of the official SAM 2.1 checkpoints (`sam2.1_hiera_*.pt` /
 * safetensors) by their state-dict names. Checked against `../shared/fixtures/sam2`.
 */
export const PACKAGE_NAME = '@rpsam2/sam2';
