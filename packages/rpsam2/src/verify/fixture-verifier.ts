/**
 * Recomputes every golden tensor of an RP-SAM2 fixture folder (the format of the shared
 * `rpsam2/tiny256`: spec.json, shift_block.safetensors, golden.safetensors) on top of its SAM 2
 * fixture folder (meta.json, weights.safetensors, golden.safetensors) and compares: the candidate
 * grid, Dice values and flags, the clicks, the sparse prompt tokens, the shift block's output
 * tokens, shift and refined clicks, SAM 2's answer to the refined clicks (predicted IoU, selected
 * mask index and logits), the sampled ground truth, each loss term and the total, and the
 * gradient of the total w.r.t. every shift-block parameter — the full chain from the loss
 * through the mask decoder, the prompt encoder and the refined click into the shift block.
 *
 * As in the SAM 2 verifier, each stage is fed the golden values of its inputs (image pixels,
 * clicks, sparse tokens, candidates), so that a mismatch points at one stage. Every tensor of
 * golden.safetensors must be checked: one that is not recomputed is reported as a failure.
 */
import { backward, GoldenChecker, noGrad, tensor, tidy, type CheckReport, type SafetensorsFile, type Tensor } from '@rpsam2/tensor';
import { Sam2ImagePredictor, loadFixtureModel, loadWeights, type FixtureInputs, type WeightSource } from '@rpsam2/sam2';
import { ShiftBlock, shiftBlockConfigFromSpec } from '../shift-block/shift-block.js';
import { compoundLoss, lossConfigFromSpec } from '../loss/compound-loss.js';
import { computeCandidates } from '../candidates/candidates.js';
import { maskToF32, normalizeClicks } from '../candidates/clicks.js';
import { RpSam2, targetLowRes } from '../pipeline/rpsam2.js';
import { oneHotToIndices } from '../pipeline/select-mask.js';

export type { CheckResult } from '@rpsam2/tensor';

/** An RP-SAM2 fixture folder's contents and the SAM 2 fixture it builds on. */
export interface Rpsam2FixtureInputs {
  spec: any;
  shiftWeights: WeightSource;
  golden: SafetensorsFile;
  sam2: FixtureInputs;
}

/** Runs every check; calls `report` per tensor as it goes. */
export async function verifyRpsam2Fixture(inputs: Rpsam2FixtureInputs, report: CheckReport): Promise<void> {
  const { spec, shiftWeights, golden } = inputs;
  const check = new GoldenChecker(golden, report);
  const model = await loadFixtureModel(inputs.sam2);
  const sam2Golden = inputs.sam2.golden;
  const pixels = tensor(await sam2Golden.readF32('input.pixels'), sam2Golden.entry('input.pixels').shape);
  const features = noGrad(() => tidy(() => model.forwardImage(pixels)));
  pixels.dispose();
  const [h0, w0] = inputs.sam2.meta.orig_hw as [number, number];
  const predictor = new Sam2ImagePredictor(model);
  predictor.setFeatures(features, [h0, w0]);
  const block = new ShiftBlock(shiftBlockConfigFromSpec(spec.shift_block ?? {}));
  const rp = new RpSam2(predictor, block);
  const owned: Tensor[] = [];
  const own = <T extends Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  try {
    await loadWeights(block, shiftWeights);

    // Ground truth: the SAM 2 fixture's target mask.
    const maskBytes = await inputs.sam2.golden.readBytes('input.target_mask');
    if (maskBytes.length !== h0 * w0) throw new Error(`rpsam2 verify: input.target_mask has ${maskBytes.length} values, orig_hw is ${h0}×${w0}`);
    const gt = own(tensor(maskToF32(maskBytes), [1, 1, h0, w0]));

    // Candidates, recomputed from scratch.
    const cs = spec.candidates ?? {};
    const cand = await computeCandidates(predictor, maskBytes, { gridStep: cs.grid_step_px ?? 8, epsilon: cs.epsilon ?? 0.005 });
    await check.exact('candidates.grid_px', { data: cand.gridPx, shape: [cand.gridCount, 2] });
    await check.forward('candidates.dice', { data: cand.dice, shape: [cand.gridCount] });
    await check.exact('candidates.is_candidate', { data: cand.isCandidate, shape: [cand.gridCount] });
    await check.forward('candidates.norm', { data: cand.norm, shape: [cand.count, 2] });

    // Clicks and their sparse tokens.
    const clicksPx = await golden.readF32('clicks_px');
    const nClicks = clicksPx.length / 2;
    check.checked.add('clicks_px');
    await check.forward('clicks_norm', { data: normalizeClicks(clicksPx, h0, w0), shape: [nClicks, 2] });
    const clicks = own(tensor(await golden.readF32('clicks_norm'), [nClicks, 2]));
    const sparseOurs = own(rp.clickTokens(clicks));
    await check.forward('sparse_in', sparseOurs);

    // Shift block → SAM 2 → loss, from the golden sparse tokens and candidates; then backward.
    const sparse = own(tensor(await golden.readF32('sparse_in'), golden.entry('sparse_in').shape));
    const candNorm = own(tensor(await golden.readF32('candidates.norm'), golden.entry('candidates.norm').shape));
    const target = own(targetLowRes(gt, model.gridSize * 4));
    block.setTrainable(true);
    const out = tidy(() => {
      const r = block.forward(sparse, features.imageEmbed, clicks);
      const dec = rp.decodeRefined(r.refined);
      const loss = compoundLoss({ refined: r.refined, selectedLogits: dec.selected, targetLowRes: target, candidates: candNorm, gt }, lossConfigFromSpec(spec.loss ?? {}));
      return { ...r, ...dec, loss };
    });
    owned.push(out.tokens, out.delta, out.refined, out.iou, out.lowRes, out.selected, out.oneHot, out.loss.total);
    for (const t of [out.loss.dice, out.loss.dist, out.loss.out, out.loss.mHat]) if (t) owned.push(t);
    await check.forward('tokens_out', out.tokens);
    await check.forward('delta', out.delta);
    await check.forward('refined_norm', out.refined);
    await check.forward('iou', out.iou);
    await check.exact('selected_mask_index', { data: await oneHotToIndices(out.oneHot), shape: [nClicks] });
    await check.forward('low_res_selected', out.selected);
    if (out.loss.mHat) await check.forward('m_hat', out.loss.mHat);
    if (out.loss.dice) await check.forward('loss.dice', out.loss.dice);
    if (out.loss.dist) await check.forward('loss.dist', out.loss.dist);
    if (out.loss.out) await check.forward('loss.out', out.loss.out);
    await check.forward('loss.total', out.loss.total);

    backward(out.loss.total);
    for (const [name, slot] of block.namedParams()) {
      await check.grad(`grad.${name}`, slot.value?.grad ?? null);
    }
    // Golden tensors this run did not recompute (e.g. a gradient of an unknown parameter).
    check.reportUnchecked();
  } finally {
    for (const t of owned) t.dispose();
    block.dispose();
    predictor.dispose();
    model.dispose();
  }
}
