/**
 * The default shift block's card (packages/rpsam2/models/synthetic/MODEL_CARD.md), written by
 * `bench train-rpsam2 --export` from the run that made the block — its config, training log,
 * results.json and timings — so that the numbers never drift from the shipped weights. Everything
 * below {@link KEPT_NOTES_MARKER} is hand-written and kept by the next export.
 */
import type { ShiftBlockConfig } from '@rpsam2/rpsam2';
import type { ExperimentConfig } from '../runs/experiment-config.js';

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
}

const f3 = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const f4 = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(4) : 'n/a');
const f1 = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const signed = (x: number, d = 3) => `${x >= 0 ? '+' : ''}${x.toFixed(d)}`;
const pText = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function minutes(s: number | null): string {
  return s === null ? 'n/a' : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}

/** The card's Markdown. */
export function shiftBlockCardMarkdown(c: ShiftBlockCardInput): string {
  const r = c.results;
  const sam2 = r.results['SAM 2'];
  const rp = r.results['RP-SAM2'];
  const h = r.headline;
  const rpHead = h.methods.find((m) => m.name === 'RP-SAM2');
  const test = r.tests.find((t) => t.a === 'RP-SAM2');
  const g = c.config.data.generate;
  const base = c.config.training.base as Record<string, unknown>;
  const loss = (base.loss ?? {}) as Record<string, unknown>;
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
A synthetic set of its own (\`bench generate\` seed ${g?.seed}: ${g?.cases} cases × ${g?.framesPerCase} frames, ${g?.width}×${g?.height},
${g?.minInstruments}–${g?.maxInstruments} instruments per frame), split by case into train / val / test. No frame of it is
in the default SAM 2's training or held-out streams or in any \`pnpm bench\` evaluation set.
- **train**: ${r.dataset.trainFrames ?? 'n/a'} frames — the only frames the block learns from;
- **val**: the checkpoint is the one with the best val Dice (${c.config.training.base.val ? JSON.stringify((base.val as Record<string, unknown>).clicksPerObject) : 1} fixed clicks per object);
- **test**: ${r.dataset.framesWithObjects} frames, ${r.dataset.objects} instrument objects — reported below, used for nothing else.

Candidates (where one click gives SAM 2 its best mask, the target of the distance term): grid
${c.config.training.gridStep} px, ε ${c.config.training.epsilon}.

## Recipe
| setting | this block | the paper |
| --- | --- | --- |
| layers / heads / FFN | ${c.block.layers} / ${c.block.heads} / ${c.block.ffn} | 6 / 8 / 2048 |
| batch | ${base.batchSize} objects × ${base.clicksPerObject} clicks | 4 × 10 |
| optimizer | Adam, lr ${base.lr} | Adam, lr 1e-4 |
| shift bound at init | sigmoid(scale) = ${c.block.scaleInit} | 0.1 |
| output head at init | ${base.zeroInitHead ? 'zero (the block starts as the identity)' : "PyTorch's default"} | PyTorch's default |
| loss | ${[loss.useDice !== false && 'Dice', loss.useDist !== false && 'Dist', loss.useOut !== false && 'Out'].filter(Boolean).join(' + ')} (α 1, β 0.1, γ 1, θ 15) | Dice + Dist + Out |
| candidates | grid ${c.config.training.gridStep} px, ε ${c.config.training.epsilon} | grid 8 px, ε 0.005 |
| schedule | ${base.epochs} epochs (${c.checkpoint.globalStep} steps to the chosen checkpoint, epoch ${c.checkpoint.epoch}) | 1500 epochs |
| seeds | init ${base.initSeed}, stream ${base.seed}, val clicks ${(base.val as Record<string, unknown> | undefined)?.seed} | — |

Training time: ${minutes(c.trainSeconds)} of training (median step ${Math.round(median(c.stepMs))} ms, ${c.stepMs.length} steps logged; 2-core
machine, lavapipe); caching features and candidates: ${minutes(c.cacheSeconds)} in this run directory's timings (a cache built
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
