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

/**
 * The seeded initialisers live in `@rpsam2/tensor` (its `nn` layer); re-exported for this API's users.
 * @deprecated import them from `@rpsam2/tensor`.
 */
export { uniformInit, truncNormalInit, linearDefaultBound, xavierBound, logit } from '@rpsam2/tensor';
export { MultiheadAttention } from './shift-block/multihead-attention.js';
export { TransformerDecoderLayer } from './shift-block/decoder-layer.js';
export {
  ShiftBlock,
  PAPER_SHIFT_BLOCK,
  POINTER_SIGMA_INIT,
  MAX_REFINE_STEPS,
  refineStepsOf,
  type ShiftHead,
  shiftBlockConfigFromSpec,
  shiftBlockParamCount,
  type ShiftBlockConfig,
  type ShiftBlockOutput,
  type ShiftBlockInitOptions,
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
  candidatesFromDice,
  reachableCandidates,
  normaliseGrid,
  type CandidateGrid,
  type CandidateOptions,
  type CandidateSet,
} from './candidates/candidates.js';
export { objectHeadroom, meanHeadroom, type HeadroomInput, type ObjectHeadroom } from './candidates/headroom.js';
export { sampleClicks, normalizeClicks, maskCentroid } from './candidates/clicks.js';
export { selectByIou, oneHotToIndices, type Selection } from './pipeline/select-mask.js';
export { RpSam2, targetLowRes, type RefinedDecode, type RpSam2Output, type RpSam2Targets } from './pipeline/rpsam2.js';
export { verifyRpsam2Fixture, type CheckResult, type Rpsam2FixtureInputs } from './verify/fixture-verifier.js';

// Training engineering: data, the frozen-feature cache, the training loop, checkpoints, and the
// refined predictor. File paths work in Node only (node modules are imported lazily).
export { InMemoryDataset, maskArea, subset, validateItem, type Dataset, type DatasetItem, type DatasetObject } from './train/dataset.js';
export { syntheticShapes, syntheticShapesItem, type SyntheticShapesOptions } from './train/synthetic.js';
export { openDataset, openManifestDataset, registerDatasetLoader, type DatasetLoader } from './train/open-dataset.js';
// The seeded generator and its helpers live in @rpsam2/tensor; re-exported for this API's users.
export { SeededRandom, permutation, mixSeed } from '@rpsam2/tensor';
export {
  forwardBackward,
  evaluateClicks,
  refineClicks,
  shiftForwardGrouped,
  decodeClicks,
  clickTokens,
  stackEmbeds,
  makeTargets,
  centroidTargets,
  tokenCover,
  type DistTarget,
  disposeTargets,
  objectClicks,
  inCandidateRegion,
  autoDecodeChunk,
  chunkObjects,
  type ObjectTargets,
  type StepObject,
  type StepOptions,
  type StepResult,
  type StepTimings,
  type ClickEval,
} from './train/step.js';
export {
  CachedSource,
  cachedSourceFor,
  ConcatSource,
  OnTheFlySource,
  augment,
  drawAugmentation,
  type TrainingSource,
  type ObjectRef,
  type PreparedBatch,
  type PreparedObject,
  type CandidateInfo,
  type Augmentation,
  type OnTheFlyOptions,
} from './train/sources.js';
export {
  DEFAULT_TRAIN_CONFIG,
  resolveTrainConfig,
  validateTrainConfig,
  parseOverride,
  shiftBlockConfigFor,
  newShiftBlockFor,
  newShiftBlockForModel,
  sam2TokenPositions,
  type TrainConfig,
} from './train/config.js';
export { Trainer, type TrainerParts, type TrainProgress, type TrainSummary, type ValMetrics } from './train/trainer.js';
export { MetricsLog, type LogLine, type TrainLogLine, type ValLogLine } from './train/metrics-log.js';
export { ProgressLine, formatDuration, type ProgressStream } from './train/progress.js';
export {
  buildFeatureCache,
  candidatesOf,
  settingsDiff,
  serializeCacheEntry,
  FeatureCache,
  CACHE_FORMAT,
  CACHE_VERSION,
  type BuildCacheOptions,
  type BuildCacheReport,
  type CacheEntry,
  type CacheIndex,
  type CacheProgress,
  type CacheSettings,
  type CachedImage,
  type CachedObject,
  type CachedObjectInfo,
} from './cache/feature-cache.js';
export { mirrorGrid, mirrorMask, mirrorNormalized, mirrorPixels, type Mirror } from './cache/mirror.js';
export {
  saveCheckpoint,
  openCheckpoint,
  loadShiftBlockFrom,
  restoreOptimizer,
  inferShiftBlockConfig,
  checkpointJsonPath,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointMeta,
  type OpenedCheckpoint,
  type TrainState,
} from './checkpoint/checkpoint.js';
export {
  defaultShiftBlockPaths,
  defaultShiftBlockSpec,
  defaultShiftBlockNotice,
  shiftBlockNeededError,
  DefaultShiftBlockMissingError,
  DEFAULT_SHIFT_BLOCK_FILES,
  DEFAULT_SHIFT_BLOCK_SAM2,
  type DefaultShiftBlockPaths,
} from './predictor/default-shift-block.js';
export { RpSam2Predictor, RPSAM2Predictor, type Click, type RefinedPrediction, type LoadRpSam2Options } from './predictor/rp-sam2-predictor.js';
// Opening a checkpoint or plain shift-block file from bytes (browsers: a picked File via blobSource).
export { openCheckpointSource, CheckpointFileError, type OpenCheckpointSourceOptions } from './checkpoint/checkpoint-source.js';
export { SHIFT_PREFIX } from './checkpoint/format.js';
