/**
 * The recipe of the embedded default SAM 2 model (`packages/sam2/models/synthetic`, see its
 * MODEL_CARD.md): `bench train-sam2` runs it on the bench's synthetic surgical frames (the class
 * focus of stage 7 names one of their classes, the lens injector `LI`). The SAM 2 package keeps
 * only the generic trainer and dataset-free defaults ({@link DEFAULT_TRAIN_CONFIG}, which the
 * stages below build on).
 */
import { DEFAULT_TRAIN_CONFIG, type CropOptions, type TrainStage } from '@rpsam2/sam2';

const RECIPE_CROPS: CropOptions = { probability: 0.5, fraction: 0.5, seed: 7 };
const FROZEN_ENCODER = { ...DEFAULT_TRAIN_CONFIG.step, freezeEncoder: true };
/**
 * Stages 5–7's prompts, mostly as the predictor is used and judged: one click, multimask.
 * `freezeEncoder: false` is written out because a checkpoint's config is compared as written.
 */
const SINGLE_CLICK_PROMPTS = { ...DEFAULT_TRAIN_CONFIG.step, freezeEncoder: false, multimaskProbability: 1, boxProbability: 0.1, correctionProbability: 0.1 };

/**
 * The default model's recipe, at 256 px input (4× cheaper per step than 512 px) with zoomed crops,
 * then at the shipped 512 px (progressive resizing: Hiera's position embedding is interpolated to
 * any grid, and nothing else depends on the size):
 * 1. everything trained together — the encoder learns the instruments; the decoder settles on
 *    masks that ignore the click (every run so far);
 * 2. a fresh decoder on that encoder, frozen: masks begin to depend on the click (spread 0 until
 *    ~800 steps, then rising with the mDSC), which joint training from scratch never showed;
 * 3. everything trained together again, now that the decoder follows the click: the encoder's
 *    features adapt to the click-selected masks (instrument parts the frozen features missed);
 * 4. the decoder at 512 px on whole frames, encoder frozen;
 * 5. everything at 512 px, at a low learning rate, mostly single clicks decoded multimask: the
 *    encoder, trained at 256 px until now, adapts to the shipped input's token grid;
 * 6. the decoder alone again on those features, with the same prompts;
 * 7. everything, with 30 % of the steps on frames showing the lens injector, the class the model
 *    missed most (its glass is ~80 % transparent: masks kept to its outline).
 * (Held-out gains of stages 4–7, one click: see the model card; each was small, +0.003 to +0.008.)
 */
export const SAM2_RECIPE: readonly TrainStage[] = [
  { imageSize: 256, config: DEFAULT_TRAIN_CONFIG, crop: RECIPE_CROPS },
  { imageSize: 256, config: { ...DEFAULT_TRAIN_CONFIG, seed: 2, steps: 1647, warmupSteps: 50, step: FROZEN_ENCODER }, crop: RECIPE_CROPS, freshDecoder: true },
  { imageSize: 256, config: { ...DEFAULT_TRAIN_CONFIG, seed: 3, steps: 2400, lr: 3e-4, warmupSteps: 50 }, crop: RECIPE_CROPS },
  { imageSize: 512, config: { ...DEFAULT_TRAIN_CONFIG, seed: 1, steps: 300, lr: 3e-4, warmupSteps: 20, step: FROZEN_ENCODER } },
  { imageSize: 512, config: { ...DEFAULT_TRAIN_CONFIG, seed: 5, steps: 720, lr: 1e-4, warmupSteps: 10, step: SINGLE_CLICK_PROMPTS } },
  { imageSize: 512, config: { ...DEFAULT_TRAIN_CONFIG, seed: 5, steps: 240, lr: 1e-4, warmupSteps: 10, step: { ...SINGLE_CLICK_PROMPTS, freezeEncoder: true } } },
  { imageSize: 512, config: { ...DEFAULT_TRAIN_CONFIG, seed: 6, steps: 360, lr: 5e-5, warmupSteps: 10, step: SINGLE_CLICK_PROMPTS }, focus: { classKey: 'LI', probability: 0.3, seed: 11 } },
];
