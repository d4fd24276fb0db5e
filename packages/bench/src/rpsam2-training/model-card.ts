/**
 * The default shift block's card (packages/rpsam2/models/synthetic/MODEL_CARD.md), written by
 * `bench train-rpsam2 --export` from the run that made the block — its config, training log,
 * results.json and timings — so that the numbers never drift from the shipped weights. Everything
 * below {@link KEPT_NOTES_MARKER} is hand-written and kept by the next export.
 */
import { DEFAULT_TRAIN_CONFIG, type ShiftBlockConfig, type TrainConfig } from '@rpsam2/rpsam2';
import { FEATURES_ONLY_GRID_STEP, type ExperimentConfig, type GenerateSpec } from '../runs/experiment-config.js';
import { median } from '../stats.js';

/** The line after which the card's hand-written notes start (kept across exports). */
export const KEPT_NOTES_MARKER = '<!-- Notes below this line are written by hand and kept by `bench train-rpsam2 --export`. -->';

interface MeanStd {
  mean: number;
  std: number;
}

/** The parts of a run's results.json the card reads. */
export interface CardResults {
  models: { label: string; description: string }[];
  dataset: { objects: number; framesWithObjects: number; classes: { key: string; name: string; objects: number }[]; trainFrames: number | null };
  headline: { sam2InstrumentMdsc: MeanStd; sam2InstrumentMhd95: MeanStd; sam2ClickSpread: number; methods: { name: string; mDSC: MeanStd; mHD95: MeanStd; clickSpread: number }[] };
  results: Record<string, { classes: Record<string, { mDSC: MeanStd; mHD95: MeanStd; clickSpread: number | null }>; objects: number }>;
  tests: { a: string; b: string; wilcoxonDice: { p: number; n: number; meanDifference: number }; wilcoxonHd95: { p: number; meanDifference: number } }[];
}

/** `<run>/training-data.json` (written by a run with extra training sets): what trained the block. */
export interface TrainingData {
  base: { spec: GenerateSpec | null; split: string; frames: number; objects: number; cache: string };
  extra: { spec: GenerateSpec; frames: number; objects: number; cache: string }[];
}

/** One validation of the training log. */
export interface ValPoint {
  epoch: number;
  step: number;
  dice: number;
  rawDice: number;
  inCandidate: number;
  rawInCandidate: number;
  best: boolean;
}

export interface ShiftBlockCardInput {
  config: ExperimentConfig;
  results: CardResults;
  block: ShiftBlockConfig;
  parameters: number;
  fileBytes: number;
  checkpoint: { globalStep: number; epoch: number | null; valDice: number | null };
  val: ValPoint[];
  /** Wall time of each training step (ms), from the log. */
  stepMs: number[];
  trainSeconds: number | null;
  cacheSeconds: number | null;
  figures: string[];
  retrain: string;
  /** Hand-written notes kept from the previous card. */
  notes: string;
  /** The resolved training config of the chosen checkpoint (null: the run config's base only). */
  training?: TrainConfig | null;
  /** The run's training-data.json (null: the base set's train split only). */
  trainingData?: TrainingData | null;
}

const f3 = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const f4 = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(4) : 'n/a');
const f1 = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const signed = (x: number, d = 3) => `${x >= 0 ? '+' : ''}${x.toFixed(d)}`;
const pText = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

function minutes(s: number | null): string {
  return s === null ? 'n/a' : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}

const setText = (g: GenerateSpec | null | undefined) =>
  g ? `seed ${g.seed}: ${g.cases} cases × ${g.framesPerCase} frames, ${g.width}×${g.height}, ${g.minInstruments}–${g.maxInstruments} instruments per frame` : 'n/a';

/** The resolved training config (the checkpoint's, else the defaults ← the run's base). */
function trainingOf(c: ShiftBlockCardInput): TrainConfig {
  // Defaults under it: a checkpoint of an older build may lack newer keys.
  const base = (c.training ?? c.config.training.base) as Partial<TrainConfig>;
  return { ...DEFAULT_TRAIN_CONFIG, ...base, loss: { ...DEFAULT_TRAIN_CONFIG.loss, ...(base.loss ?? {}) }, val: { ...DEFAULT_TRAIN_CONFIG.val, ...(base.val ?? {}) } } as TrainConfig;
}

/** The card's Data section: the base set (train / val / test) and the extra training sets. */
export function dataSection(c: ShiftBlockCardInput): string {
  const r = c.results;
  const g = c.config.data.generate;
  const t = trainingOf(c);
  const td = c.trainingData ?? null;
  const extra = td?.extra ?? [];
  const featuresOnly = c.config.training.featuresOnlyTrain === true;
  const lines = [
    `The base set is a synthetic set of its own (\`bench generate\` ${setText(g)}), split by case into train / val / test. No frame of it is`,
    `in the default SAM 2's training or held-out streams or in any \`pnpm bench\` evaluation set.`,
    `- **train**: ${td ? `${td.base.frames} frames, ${td.base.objects} objects` : `${r.dataset.trainFrames ?? 'n/a'} frames`} — ${extra.length ? 'with the extra sets below, the only frames the block learns from' : 'the only frames the block learns from'};`,
    `- **val**: the checkpoint is the one with the best val Dice (${t.val.clicksPerObject} fixed clicks per object);`,
    `- **test**: ${r.dataset.framesWithObjects} frames, ${r.dataset.objects} instrument objects — reported below, used for nothing else.`,
  ];
  if (extra.length) {
    const frames = extra.reduce((n, e) => n + e.frames, 0) + (td?.base.frames ?? 0);
    const objects = extra.reduce((n, e) => n + e.objects, 0) + (td?.base.objects ?? 0);
    lines.push(
      '',
      `Extra training sets: only their train splits are used (their val and test splits are not), each of its own seed, distinct from every set above.`,
      '',
      '| set | cases | frames per case | size | instruments | train frames | train objects |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...(td && g ? [`| base, seed ${g.seed} (train split) | ${g.cases} | ${g.framesPerCase} | ${g.width}×${g.height} | ${g.minInstruments}–${g.maxInstruments} | ${td.base.frames} | ${td.base.objects} |`] : []),
      ...extra.map((e) => `| extra, seed ${e.spec.seed} | ${e.spec.cases} | ${e.spec.framesPerCase} | ${e.spec.width}×${e.spec.height} | ${e.spec.minInstruments}–${e.spec.maxInstruments} | ${e.frames} | ${e.objects} |`),
      `| **all training** | | | | | ${frames} | ${objects} |`,
    );
  }
  const trainCache = featuresOnly || extra.length ? `${featuresOnly ? 'The training caches hold' : "The extra sets' training caches hold"} features and masks only (grid ${FEATURES_ONLY_GRID_STEP} px: no candidate grid), as the ${t.distTarget === 'centroid' ? 'centroid target' : 'loss'} needs no candidates. ` : '';
  lines.push(
    '',
    `${trainCache}Candidates (where one click gives SAM 2 its best mask${t.distTarget === 'centroid' ? '; here only for the val log\'s "in candidates" rates' : ', the target of the distance term'}): grid ${c.config.training.gridStep} px, ε ${c.config.training.epsilon}${featuresOnly ? ' (validation cache)' : ''}.`,
  );
  return lines.join('\n');
}

/** The card's recipe table: one row per setting, from the training config the block was trained with. */
export function recipeRows(c: ShiftBlockCardInput): [string, string, string][] {
  const t = trainingOf(c);
  const l = t.loss;
  const terms = [l.useDice && 'Dice', l.useDist && 'Dist', l.useOut && 'Out'].filter(Boolean).join(' + ');
  const extra = c.trainingData?.extra ?? c.config.training.extraTrainSets?.map((spec) => ({ spec })) ?? [];
  const featuresOnly = c.config.training.featuresOnlyTrain === true;
  const trainSets = `${c.config.data.generate ? `seed ${c.config.data.generate.seed} train split` : c.config.data.trainSplit}${extra.length ? ` + the train splits of seeds ${extra.map((e) => e.spec.seed).join(', ')}` : ''}`;
  return [
    ['layers / heads / FFN', `${c.block.layers} / ${c.block.heads} / ${c.block.ffn}`, '6 / 8 / 2048'],
    ['output head', t.shiftHead === 'pointer' ? 'pointer (a bounded step to the attention-weighted mean of image-token centres)' : 'linear', 'linear'],
    ['inference steps', (c.block.refineSteps ?? 1) > 1 ? `${c.block.refineSteps} (the block is applied again from its refined click; trained on one step)` : '1', '1'],
    ['output head at init', t.zeroInitHead ? (t.shiftHead === 'pointer' ? 'query at zero (starts as the locality term: nearly no shift)' : 'zero (the block starts as the identity)') : "PyTorch's default", "PyTorch's default"],
    ['image-token positions at init', t.positionInit === 'sam2' ? "SAM 2's dense positional encoding" : 'random N(0, 0.02²)', 'random'],
    ['cross-attention W_k at init', t.tieCrossAttention > 0 ? `tied to W_q × ${t.tieCrossAttention}` : 'independent', 'independent'],
    ['shift bound at init', `sigmoid(scale) = ${c.block.scaleInit}`, '0.1'],
    ['training data', trainSets, 'the train split'],
    ['batch', `${t.batchSize} objects × ${t.clicksPerObject} clicks`, '4 × 10'],
    ['optimizer', `Adam, lr ${t.lr}${t.clipGradNorm > 0 ? `, gradient clipped to norm ${t.clipGradNorm}` : ''}`, 'Adam, lr 1e-4'],
    ['loss', `${terms} (α ${l.alpha}, β ${l.beta}, γ ${l.gamma}, θ ${l.theta})`, 'Dice + Dist + Out'],
    [
      'distance target',
      t.distTarget === 'centroid' ? `the point ${t.candidateReach} towards the mask's centroid per axis` : t.candidateReach > 0 ? `candidates within ${t.candidateReach} of the click` : "the grid's candidates",
      "the grid's candidates",
    ],
    [
      'candidates',
      featuresOnly || extra.length ? `none for training (features only); validation grid ${c.config.training.gridStep} px, ε ${c.config.training.epsilon}` : `grid ${c.config.training.gridStep} px, ε ${c.config.training.epsilon}`,
      'grid 8 px, ε 0.005',
    ],
    ['schedule', `${t.epochs} epochs${t.maxSteps ? ` (at most ${t.maxSteps} steps)` : ''} (${c.checkpoint.globalStep} steps to the chosen checkpoint, epoch ${c.checkpoint.epoch})`, '1500 epochs'],
    ['validation', `every ${t.val.every} epoch(s), ${t.val.clicksPerObject} fixed clicks per val object`, '—'],
    ['seeds', `init ${t.initSeed}, stream ${t.seed}, val clicks ${t.val.seed}`, '—'],
  ];
}

/** The card's Markdown. */
export function shiftBlockCardMarkdown(c: ShiftBlockCardInput): string {
  const r = c.results;
  const sam2 = r.results['SAM 2'];
  const rp = r.results['RP-SAM2'];
  const h = r.headline;
  const rpHead = h.methods.find((m) => m.name === 'RP-SAM2');
  const test = r.tests.find((t) => t.a === 'RP-SAM2');
  const classRows = r.dataset.classes
    .map((k) => {
      const a = sam2?.classes[k.key];
      const b = rp?.classes[k.key];
      if (!a || !b) return '';
      const d = b.mDSC.mean - a.mDSC.mean;
      return `| ${k.name} (${k.key}) | ${k.objects} | ${f3(a.mDSC.mean)} | ${f3(b.mDSC.mean)} | ${signed(d)} | ${f1(a.mHD95.mean)} | ${f1(b.mHD95.mean)} | ${f3(a.clickSpread)} | ${f3(b.clickSpread)} |`;
    })
    .filter(Boolean)
    .join('\n');
  const valRows = c.val.map((v) => `| ${v.epoch} | ${v.step} | ${v.dice.toFixed(4)} | ${v.rawDice.toFixed(4)} | ${(100 * v.inCandidate).toFixed(1)} % | ${(100 * v.rawInCandidate).toFixed(1)} % | ${v.best ? 'yes' : ''} |`).join('\n');
  const bestVal = c.val.find((v) => v.step === c.checkpoint.globalStep) ?? c.val.filter((v) => v.best).at(-1);
  const figures = c.figures.map((f) => `![${f}](${f})`).join('\n\n');
  return `# rpsam2-synthetic: the default shift block

RP-SAM2's shift block for the embedded default SAM 2 (\`${r.models[0]?.label ?? 'sam2.1-synthetic'}\`), trained **by this
project** on synthetic cataract-surgery frames with SAM 2 frozen. \`RpSam2Predictor.load()\`,
\`rpsam2 predict\`, the labeling page and \`pnpm bench\` use it whenever no shift block is given. It
fits that SAM 2 only (width ${c.block.dModel}, ${c.block.imageTokens} image tokens); for other SAM 2
weights, train a block for them. It has never seen a real frame.

## Architecture
The paper's shift block at SAM 2's width: ${c.block.layers} point-to-image attention layers (TransformerDecoderLayer,
post-norm), d ${c.block.dModel}, ${c.block.heads} heads, FFN ${c.block.ffn}, ${c.block.tokens} prompt tokens, learned
positions for the ${c.block.imageTokens} image tokens; ${c.parameters.toLocaleString('en-US')} parameters, stored as F16
(\`weights.safetensors\`, ${(c.fileBytes / 1e6).toFixed(2)} MB; they are f32 again once loaded).

## Data
${dataSection(c)}

## Recipe
| setting | this block | the paper |
| --- | --- | --- |
${recipeRows(c).map((r) => `| ${r.join(' | ')} |`).join('\n')}

Training time: ${minutes(c.trainSeconds)} of training (median step ${Math.round(median(c.stepMs))} ms, ${c.stepMs.length} steps logged; 2-core
machine, lavapipe); caching the training and validation features: ${minutes(c.cacheSeconds)} in this run directory's timings (a cache built
before is reused, not rebuilt).

Retrain (seeded; rerun to continue from the last checkpoint):

\`\`\`bash
${c.retrain}
\`\`\`

## Validation (val split; Dice of SAM 2's best-IoU mask from the refined click vs the raw click)
| epoch | step | val Dice (refined) | raw clicks | refined in candidates | raw in candidates | best so far |
| --- | --- | --- | --- | --- | --- | --- |
${valRows}

Chosen: step ${c.checkpoint.globalStep} (epoch ${c.checkpoint.epoch}), val Dice ${f4(bestVal?.dice)} vs ${f4(bestVal?.rawDice)} for the raw clicks.

## Test (test split, the bench protocol: ${c.config.protocol.seeds.length} seeds of one uniform click per instrument, multimask, best predicted IoU)
| | SAM 2 | RP-SAM2 |
| --- | --- | --- |
| instrument mDSC | ${f3(h.sam2InstrumentMdsc.mean)} ± ${f3(h.sam2InstrumentMdsc.std)} | ${f3(rpHead?.mDSC.mean)} ± ${f3(rpHead?.mDSC.std)} |
| mHD95 (px) | ${f1(h.sam2InstrumentMhd95.mean)} | ${f1(rpHead?.mHD95.mean)} |
| click spread (std of Dice over an object's clicks) | ${f3(h.sam2ClickSpread)} | ${f3(rpHead?.clickSpread)} |

${test ? `RP-SAM2 − SAM 2 per-object Dice ${signed(test.wilcoxonDice.meanDifference)}, Wilcoxon signed-rank p = ${pText(test.wilcoxonDice.p)} (n = ${test.wilcoxonDice.n}); HD95 ${signed(test.wilcoxonHd95.meanDifference, 1)} px, p = ${pText(test.wilcoxonHd95.p)}.` : ''}

| class | objects | SAM 2 mDSC | RP-SAM2 mDSC | Δ | SAM 2 mHD95 | RP-SAM2 mHD95 | SAM 2 spread | RP-SAM2 spread |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${classRows}

## Figures
Dice over every click position of an object (test split): SAM 2 on the left, RP-SAM2 on the right
with arrows from each click to its refined click.

${figures}

${KEPT_NOTES_MARKER}

${c.notes}
`;
}
