/**
 * @rpsam2/rpsam2 — RP-SAM2 on top of `@rpsam2/sam2` (in progress).
 *
 * Will hold: the shift block (a small transformer over the click's prompt tokens that predicts a
 * shift refining the user's click), click and candidate sampling, the compound loss (soft Dice,
 * BCE with logits, the exponential distance loss), and the training loop that trains the block
 * with SAM 2 frozen. Checked against `../shared/fixtures/rpsam2`.
 */
export const PACKAGE_NAME = '@rpsam2/rpsam2';
