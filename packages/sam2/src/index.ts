/**
 * @rpsam2/sam2 — SAM 2.1's image path on `@rpsam2/tensor` (WebGPU): the Hiera image encoder and
 * FPN neck, the prompt encoder (clicks, boxes, mask input), the two-way-transformer mask decoder,
 * preprocessing, and loading of the official checkpoints (`sam2.1_hiera_*.pt` or safetensors) by
 * their state-dict names. Checked tensor by tensor against PyTorch (`../shared/fixtures/sam2`).
 *
 * ```ts
 * import { initNode } from '@rpsam2/tensor/node';
 * import { loadSam2, Sam2ImagePredictor, decodeImage } from '@rpsam2/sam2';
 *
 * await initNode();
 * const { model, report } = await loadSam2({ weights: 'sam2.1_hiera_large.pt', dtype: 'f16' });
 * const predictor = new Sam2ImagePredictor(model);
 * await predictor.setImage(decodeImage(pngBytes));
 * const { masks, iou } = await predictor.predict({ points: [[500, 375]], labels: [1] });
 * predictor.dispose();
 * model.dispose();
 * ```
 *
 * Weights may be stored as f16 on the GPU (`dtype: 'f16'`, on every adapter: compute stays f32
 * and the conversion uses integer bit operations, not the shader-f16 feature). File paths work
 * in Node; in browsers pass a ByteSource (`blobSource(file)` from `@rpsam2/tensor`).
 *
 * @packageDocumentation
 */

/** The package name. */
export const PACKAGE_NAME = '@rpsam2/sam2';

// Configuration: the official presets and the official (yaml-as-JSON) layout.
export {
  SAM2_PRESETS,
  presetConfig,
  parseOfficialConfig,
  validateConfig,
  type Sam2Config,
  type HieraConfig,
  type NeckConfig,
  type Sam2Size,
  type MaskDecoderKind,
  type Json,
  isHqTarget,
} from './config.js';
// Config files: official Hydra YAML or JSON text, and a CLI argument (size name or path; Node only).
export { parseSam2ConfigText, readSam2ConfigArg, isSam2ConfigPath, fixtureConfigBeside, type Sam2ConfigTextOptions } from './config-file.js';

// The model and its building blocks.
export { Sam2Model, isVideoOnlyKey, VIDEO_ONLY_PREFIXES, type ImageEncoder, type ImageFeatures, type EncoderTaps } from './model/sam2-model.js';
export type { PromptEncoder } from './model/prompt-encoder.js';
export type { TwoWayTransformer, TwoWayAttentionBlock, Attention } from './model/two-way-transformer.js';
export type { Hiera, MultiScaleBlock, MultiScaleAttention, PatchEmbed } from './model/hiera.js';
export type { FpnNeck, Lateral } from './model/fpn-neck.js';
export { MaskDecoder, type DecoderOutput, type SelectOptions } from './model/mask-decoder.js';
// HQ-SAM2's mask decoder (SysCV/sam-hq `sam-hq2/`), picked by the config or the checkpoint's keys.
export { MaskDecoderHQ } from './model/mask-decoder-hq.js';
// Loading a module's parameters from a state dict (safetensors or `.pt`), checked by name and shape.
export { loadWeights, type WeightSource, type LoadOptions, type LoadReport } from './weights/load-weights.js';
// Layers with PyTorch's parameter names that SAM 2 is built from.
export { LayerNorm2d, Conv2d, ConvTranspose2d, Embedding, MLP, type Activation, type Conv2dOptions } from './nn/layers.js';
/**
 * The generic building blocks live in `@rpsam2/tensor` (its `nn` layer); these names stay here
 * for code that imports them from this package.
 * @deprecated import them from `@rpsam2/tensor`.
 */
export { Module, ParamSlot, Linear, LayerNorm } from '@rpsam2/tensor';

// Prediction.
export { Sam2ImagePredictor, type Prompt, type Prediction, type ObjectMasks, type DecodeResult } from './predictor/image-predictor.js';
// One mask as an object (score, area, RGBA/ImageData, PNG, COCO RLE, polygons).
export { MaskView, bestMask, type Rgba } from './predictor/mask-view.js';
// The click-to-mask path: prompts → model-frame points (scaling, padding point) → tokens →
// decoder; SAM 2's best-IoU choice and the mask at full size.
export { promptPoints, clickPrompt, promptTokens, decodePrompt } from './predictor/prompt.js';
export {
  selectByIou,
  oneHotToIndices,
  decodeBest,
  fullSizeMask,
  readBestMasks,
  type Selection,
  type BestDecode,
  type BestMask,
} from './predictor/best-mask.js';
export {
  preprocess,
  postprocessMasks,
  imageToTensor,
  validateImage,
  clickProblem,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type RgbImage,
} from './predictor/transforms.js';
export {
  decodeImage,
  encodeGreyPng,
  decodeGreyPng,
  encodeJpeg,
  encodePng,
  zlibRleDeflate,
  readPngInfo,
  isPng,
  imageSizeProblem,
  MAX_IMAGE_PIXELS,
  type PngImage,
  type PngInfo,
  type EncodePngOptions,
} from './image/codec.js';
export { decodeRle, encodeRle, type CocoRle } from './image/coco-rle.js';
export { maskPolygons, type MaskPolygon } from './image/mask-contours.js';

// Weights: loading, checking, converting, random initialisation.
export {
  loadSam2,
  checkWeights,
  Sam2WeightsError,
  type LoadSam2Options,
  type Sam2LoadReport,
  type WeightDType,
  type RandomWeightsSpec,
} from './weights/load.js';
export { openWeights, detectPrefix, inferSize, hasHqDecoder, ANCHOR_KEY, HQ_ANCHOR_KEY, type WeightsInput, type OpenedWeights } from './weights/source.js';
export {
  planConversion,
  conversionChunks,
  convertToSafetensors,
  type ConvertOptions,
  type ConversionPlan,
  type PlannedTensor,
} from './weights/convert.js';
export { convertWeightsFile, verifyConversion, type ConvertReport } from './weights/convert-file.js';
export { initRandomWeights, type RandomWeightsOptions } from './weights/random.js';

// Memory: estimate from the config, measurement on the device.
export {
  estimateMemory,
  encoderActivationBytes,
  decoderActivationBytes,
  featureBytes,
  parameterBreakdown,
  formatBytes,
  type MemoryEstimate,
  type ModuleParams,
  type NoScores,
} from './memory/estimate.js';
export { measureEncoder, randomPixels, type EncoderMeasurement } from './memory/measure.js';

// Verification against the PyTorch golden fixtures.
export { verifyFixture, loadFixtureModel, type CheckResult, type FixtureInputs } from './verify/fixture-verifier.js';

// The embedded default model (trained by this project on synthetic surgical frames).
export {
  loadDefaultSam2,
  defaultModelSpec,
  defaultModelNotice,
  defaultModelPaths,
  parseDefaultModelConfig,
  defaultWeightsSource,
  DefaultModelMissingError,
  DEFAULT_MODEL_NAME,
  DEFAULT_MODEL_FILES,
  type DefaultModelPaths,
  type LoadDefaultOptions,
} from './weights/default-model.js';
export { importNode, packageRootOf, packagedPaths } from './weights/node-import.js';

// Training SAM 2 (from scratch or fine-tuning): losses, simulated prompts, the trainer.
export { sam2Loss, sam2MultiStepLoss, SAM2_TRAINING_LOSS, type Sam2LossWeights, type Sam2LossOptions, type Sam2StepOutputs, type Sam2LossResult, type Sam2StepLossResult, type Sam2MultiStepLossResult } from './train/losses.js';
export { firstClick, correctionClick, noisyBox, tightBox, type PromptMask, type PromptRng, type SampledClick, type CorrectionMode } from './train/prompt-sampler.js';
export { maskCoverage, type TrainObject, type TrainSample, type TrainSource } from './train/data.js';
export { CropTrainSource, cropSample, type CropOptions } from './train/crop-source.js';
export { initTrainingWeights, initRule, isEncoderParam, isPromptEncoderParam, reinitialiseDecoder } from './train/init.js';
export { learningRateAt, type LrSchedule } from './train/schedule.js';
export { trainStep, type StepOptions, type StepStats } from './train/step.js';
// The trainer skeleton shared with RP-SAM2's trainer: stop request, JSONL log, atomic checkpoint writes.
export { TrainerSkeleton, JsonlLog, writeFileAtomically, type JsonlLogLine } from './train/skeleton/index.js';
export { Sam2Trainer, DEFAULT_TRAIN_CONFIG, DEFAULT_RECIPE, type TrainStage, type ClassFocusOptions, type Sam2TrainConfig, type TrainLogEntry, type TrainerHooks } from './train/trainer.js';

// Mask geometry shared with the benchmark and the studio: exact distance transform, tight boxes.
export { squaredDistanceTransform, type DistanceTransformOptions } from './image/distance-transform.js';
export { maskBounds, unionBounds, type MaskBounds, type BoundsMask } from './image/mask-bounds.js';
