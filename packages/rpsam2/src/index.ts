/**
 * @rpsam2/rpsam2 — RP-SAM2 ("Refining Point Prompts for Stable Surgical Instrument
 * Segmentation") on top of `@rpsam2/sam2`: SAM 2 stays frozen and a small trainable shift block
 * moves the user's click to a better spot before SAM 2 segments.
 *
 * - {@link ShiftBlock}: the transformer-decoder shift block (PyTorch parameter names), with the
 *   paper's configuration {@link PAPER_SHIFT_BLOCK} (10,522,628 parameters) and seeded init.
 * - {@link compoundLoss}: L = α·L_dice + β·L_dist + γ·L_out with per-term switches.
 * - {@link computeCandidates}: grid points whose single click gives SAM 2 (almost) its best Dice.
 * - {@link RpSam2}: click → sparse tokens → shift block → SAM 2 → selected mask → loss.
 * - {@link verifyRpsam2Fixture}: checks all of it against an RP-SAM2 fixture folder
 *   (CLI: `rpsam2-verify`).
 */
export const PACKAGE_NAME = '@rpsam2/rpsam2';

export { Rng, uniformInit, truncNormalInit, linearDefaultBound, xavierBound, logit } from './nn/init.js';
export { MultiheadAttention } from './shift-block/multihead-attention.js';
export { TransformerDecoderLayer } from './shift-block/decoder-layer.js';
export {
  ShiftBlock,
  PAPER_SHIFT_BLOCK,
  shiftBlockConfigFromSpec,
  shiftBlockParamCount,
  type ShiftBlockConfig,
  type ShiftBlockOutput,
} from './shift-block/shift-block.js';
export {
  compoundLoss,
  diceTerm,
  distTerm,
  outTerm,
  sampleMask,
  lossConfigFromSpec,
  PAPER_LOSS,
  type CompoundLossConfig,
  type CompoundLossInputs,
  type CompoundLossOutput,
} from './loss/compound-loss.js';
export {
  computeCandidates,
  clickDice,
  gridPoints,
  selectCandidates,
  type CandidateOptions,
  type CandidateSet,
} from './candidates/candidates.js';
export { sampleClicks, normalizeClicks } from './candidates/clicks.js';
export { argmaxOneHot, selectByIou, oneHotToIndices, type Selection } from './pipeline/select-mask.js';
export { RpSam2, targetLowRes, type RefinedDecode, type RpSam2Output, type RpSam2Targets } from './pipeline/rpsam2.js';
export {
  verifyRpsam2Fixture,
  type CheckResult,
  type Rpsam2FixtureInputs,
  type Sam2FixtureInputs,
} from './verify/fixture-verifier.js';
