/**
 * The default model's card (models/synthetic/MODEL_CARD.md), written by `bench train-sam2
 * --export` from what the run actually did, so that its numbers and recipe never drift from the
 * shipped weights.
 */
import type { Sam2Config, TrainStage } from '@rpsam2/sam2';
import type { SingleClickResult } from './single-click-eval.js';

export interface ModelCardInput {
  config: Sam2Config;
  parameters: number;
  stages: readonly TrainStage[];
  data: string;
  evalData: string;
  result: SingleClickResult;
  /** Wall time of the training per stage (s), when known. */
  stageSeconds?: (number | null)[];
  adapter: string;
  date: string;
}

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

/** Which objects each stage prompts (instruments always; anatomy where a stage allows it). */
function objectsLine(stages: readonly TrainStage[]): string {
  const anatomy = stages.map((s) => s.config.step.maxAnatomyPerImage ?? Infinity);
  if (anatomy.every((a) => a === 0)) return 'instruments only (anatomy objects left out: their large masks gave best-of-three answers that ignore the click)';
  return `instruments, then up to ${anatomy.map((a) => (a === Infinity ? 'all' : a)).join(' / ')} anatomy object(s) (cornea, pupil) per frame by stage`;
}

/** The card's Markdown. */
export function modelCardMarkdown(c: ModelCardInput): string {
  const t = c.config.trunk;
  const stageRows = c.stages
    .map((s, k) => {
      const o = s.config;
      const secs = c.stageSeconds?.[k];
      return `| ${k + 1} | ${s.imageSize} px | ${s.crop ? `${Math.round(s.crop.probability * 100)} % zoomed (window ${s.crop.fraction} of the sides)` : 'whole frames'}${s.focus ? `, ${Math.round(s.focus.probability * 100)} % showing ${s.focus.classKey}` : ''} | ${o.step.freezeEncoder ? `${s.freshDecoder ? 'a fresh ' : ''}decoder, encoder frozen` : 'everything'} | ${o.steps} | ${o.imagesPerStep} | ${o.step.objectsPerImage} × ${o.step.promptsPerObject ?? 1} | ${o.step.boxProbability} / ${o.step.correctionProbability} / ${o.step.multimaskProbability ?? 1} | ${o.lr} → ${o.minLr} (warm-up ${o.warmupSteps}) | ${secs ? `${(secs / 60).toFixed(0)} min` : '—'} |`;
    })
    .join('\n');
  const perClass = Object.entries(c.result.perClass)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `| ${k} | ${f4(v.dice)} | ${v.objects} |`)
    .join('\n');
  const s0 = c.stages[0].config;
  return `# ${c.config.name}: the embedded default SAM 2 model

A small model with SAM 2.1's image architecture (Hiera trunk, FPN neck, prompt encoder, mask
decoder; the same code path as Hiera-L, reduced sizes), trained **from scratch by this project**
with its own WebGPU tensor library on **synthetic** cataract-surgery frames. It exists so that
\`predict\`, \`pnpm bench\` and the labeling page segment for real where the official SAM 2.1
weights are not at hand. It has never seen a real surgical frame: for real video use the official
weights (\`--weights sam2.1_hiera_large.pt\`).

## Architecture (config.json, official layout)
- input ${c.config.imageSize}×${c.config.imageSize}; Hiera embed dim ${t.embedDim}, heads ${t.numHeads}, stages [${t.stages}], global attention at blocks [${t.globalAttBlocks}], windows [${t.windowSpec}]
- neck and decoder width ${c.config.neck.dModel}; ${c.parameters.toLocaleString('en')} parameters (weights.safetensors, f32)

## Data
- training: ${c.data}, rendered on the fly (frame *i* of the stream is always the same frame)
- evaluation: ${c.evalData} (a different dataset seed: never seen in training)

## Training (\`pnpm bench train-sam2 --export packages/sam2/models/synthetic\`)
SAM 2's losses (focal ×${s0.step.weights?.mask ?? 20} + Dice ×${s0.step.weights?.dice ?? 1} on the masks, best of three for single clicks decoded multimask (else the single-mask token); IoU prediction
(${(s0.step.iouLoss ?? 'mse').toUpperCase()}) ×${s0.step.weights?.iou ?? 1}; object-score BCE ×${s0.step.weights?.objScore ?? 1}), on the low-resolution logits upsampled
×${s0.step.lossUpsample ?? 4} (bilinear, as inference upsamples them) against soft targets; prompts: one click uniform in the object (or a jittered box), and at times a
correction click from the error region (each stage's probabilities in the table); ${objectsLine(c.stages)}. AdamW
(weight decay ${s0.weightDecay}), gradient clipping at ${s0.clipNorm}, seeded. From-scratch initialisation (PyTorch layer
defaults, ViT-style trunk) except the mask decoder's cross-attentions, whose query and key
projections start tied (2 × orthonormal rows: on one memorised frame the decoder then learnt to
follow clicks, mDSC 0.56 → 0.79 in 160 steps). Stages (table): everything trained together first
(the encoder learns the instruments, the decoder learns masks that ignore the click), then a fresh
decoder on that encoder, frozen — the setting in which masks began to follow the click — then
everything together again (the encoder adapts to the click-selected masks), then the decoder at
the shipped input, then everything and then the decoder alone at the shipped input, prompted
mostly as the model is judged (one click, multimask), and at last everything again with a share
of the steps on the class the model missed most (\`focus\`). Progressive resizing: each stage starts from the earlier one's
weights (no parameter depends on the input size); zoomed crops at the small input show thin
instruments at the shipped input's scale.

| stage | input | frames | trains | steps | frames/step | objects × prompts | p(box) / p(correction) / p(multimask) | lr | time |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${stageRows}

Adapter: ${c.adapter}. Rerun the command to continue an interrupted run (checkpoints every
${s0.checkpointEvery} steps; Ctrl-C saves).

## Results (held-out synthetic frames)
Single click, multimask output, mask with the highest predicted IoU, Dice at the frame's
resolution, ${c.result.clicksPerObject} clicks per instrument (uniform in its mask), ${c.result.instruments} instruments on ${c.result.frames} frames:

- **instrument mDSC ${f4(c.result.instrumentDice)}** (mean over instruments of the mean over their clicks)
- **click-position spread ${f4(c.result.clickSpread)}** (std of Dice over an instrument's clicks, averaged over instruments): what RP-SAM2's shift block has to remove

| class | mDSC | instruments |
| --- | --- | --- |
${perClass}

Written ${c.date}.
`;
}
