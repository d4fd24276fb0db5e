/**
 * Recomputes every golden tensor of a SAM 2 fixture folder (the format of the shared
 * `sam2/tiny256`: meta.json, weights.safetensors, golden.safetensors) and compares: encoder
 * intermediates, prompt encodings, each prompt case's outputs, and the gradient cases (a soft
 * Dice loss on low-res logits, differentiated w.r.t. the click, the sparse embedding and three
 * decoder parameters). HQ-SAM2 fixtures (`hq-sam2/hq256`) are read the same way: the config's
 * `_target_` selects the HQ decoder, cases may set `hq_token_only`, and the gradient cases add
 * the HQ mask (`grad_hq`) and the HQ token's gradient (`d_hf_token`).
 */
import {
  backward,
  clamp,
  expand,
  GoldenChecker,
  interpolate,
  noGrad,
  slice,
  softDiceLoss,
  tensor,
  tidy,
  type CheckReport,
  type SafetensorsFile,
  type Tensor,
} from '@rpsam2/tensor';
import { parseOfficialConfig } from '../config.js';
import { loadWeights, type WeightSource } from '../weights/load-weights.js';
import { Sam2Model, isVideoOnlyKey, type ImageFeatures } from '../model/sam2-model.js';
import { sinePositionEncoding } from '../model/position-encoding.js';
import { MaskDecoderHQ } from '../model/mask-decoder-hq.js';
import { Sam2ImagePredictor, type Prompt } from '../predictor/image-predictor.js';
import { preprocess, type RgbImage } from '../predictor/transforms.js';

export type { CheckResult } from '@rpsam2/tensor';

/** A SAM 2 fixture folder's contents. */
export interface FixtureInputs {
  meta: any;
  weights: WeightSource;
  golden: SafetensorsFile;
}

/** The fixture's model with its weights loaded (the caller disposes it). */
export async function loadFixtureModel(inputs: FixtureInputs): Promise<Sam2Model> {
  const { meta, weights } = inputs;
  const cfg = parseOfficialConfig({ ...meta.model_config, image_size: meta.image_size ?? meta.model_config.image_size }, meta.variant ?? 'fixture');
  const model = new Sam2Model(cfg);
  try {
    await loadWeights(model, weights, { ignore: isVideoOnlyKey });
    await model.promptEncoder.prepare();
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** The prompt of a fixture case in the predictor's terms. */
function casePrompt(c: any): Prompt {
  const p: Prompt = { multimaskOutput: Boolean(c.multimask), normalizeCoords: true, hqTokenOnly: Boolean(c.hq_token_only) };
  if (c.points) {
    p.points = c.points;
    p.labels = c.labels;
  }
  if (c.boxes) p.box = c.boxes.length === 1 ? c.boxes[0] : c.boxes;
  return p;
}

/** Runs every check; calls `report` per tensor as it goes. */
export async function verifyFixture(inputs: FixtureInputs, report: CheckReport): Promise<void> {
  const { meta, golden } = inputs;
  const check = new GoldenChecker(golden, report);
  const model = await loadFixtureModel(inputs);
  const cfg = model.cfg;
  const predictor = new Sam2ImagePredictor(model);
  const owned: Tensor[] = [];
  try {

    // Preprocessing from the raw image.
    const [h0, w0] = meta.orig_hw as [number, number];
    const imgBytes = await golden.readBytes('input.image');
    const image: RgbImage = { width: w0, height: h0, channels: 3, data: imgBytes };
    const pixelsOurs = preprocess(image, cfg.imageSize);
    owned.push(pixelsOurs);
    await check.forward('input.pixels', pixelsOurs);

    // The encoder, fed the golden pixels so that each stage is checked on its own.
    const pixels = tensor(await golden.readF32('input.pixels'), golden.entry('input.pixels').shape);
    owned.push(pixels);
    const taps: Record<string, { data: Float32Array; shape: readonly number[] }> = {};
    const pending: Promise<void>[] = [];
    const tap = (name: string) => (t: Tensor) => {
      const copy = t.view(t.shape, false);
      pending.push(
        copy.data().then((d) => {
          taps[name] = { data: d, shape: copy.shape };
          copy.dispose();
        }),
      );
    };
    const features: ImageFeatures = noGrad(() =>
      tidy(() =>
        model.forwardImage(pixels, {
          patchEmbed: tap('trunk.patch_embed'),
          posEmbed: tap('trunk.pos_embed_full'),
          stages: (ts) => ts.forEach((t, i) => tap(`trunk.stage${i}`)(t)),
          fpn: (ts) => ts.forEach((t, i) => tap(`backbone.fpn${i}`)(t)),
        }),
      ),
    );
    await Promise.all(pending);
    for (const name of Object.keys(taps)) await check.forward(name, taps[name]);
    for (let i = 0; i < 3; i++) {
      const name = `backbone.pos${i}`;
      if (!golden.has(name)) continue;
      const [, c, hh, ww] = golden.entry(name).shape;
      const pos = sinePositionEncoding(c, hh, ww);
      await check.forward(name, pos);
      pos.dispose();
    }
    await check.forward('embed.image_embed', features.imageEmbed);
    await check.forward('embed.high_res0', features.highRes[0]);
    await check.forward('embed.high_res1', features.highRes[1]);
    await check.forward('prompt.dense_pe', model.promptEncoder.denseEncoding());
    predictor.setFeatures(features, [h0, w0]);

    // Prompt cases.
    for (const [caseName, c] of Object.entries<any>(meta.cases ?? {})) {
      const prompt = casePrompt(c);
      if (c.mask_input) {
        const src = String(c.mask_input).split('.')[0];
        const lr = golden.entry(`${src}.low_res`).shape;
        const all = await golden.readF32(`${src}.low_res`);
        const best = meta[`best_mask_${src.split('_')[0]}`] ?? 0;
        const plane = lr[2] * lr[3];
        prompt.maskInput = tensor(all.subarray(best * plane, (best + 1) * plane), [1, 1, lr[2], lr[3]]);
        owned.push(prompt.maskInput);
      }
      const out = noGrad(() =>
        tidy(() => {
          const r = predictor.decode(prompt);
          const hasMasks = golden.has(`${caseName}.masks`);
          return {
            sparse: r.sparse,
            dense: expand(r.dense, [r.sparse.shape[0], r.dense.shape[1], model.promptEncoder.gridSize, model.promptEncoder.gridSize]),
            low_res: clamp(r.lowRes, -32, 32),
            iou: r.iou,
            obj: r.raw.objectScore,
            ...(hasMasks ? { masks: interpolate(r.lowRes, { size: [h0, w0], mode: 'bilinear', alignCorners: false }) } : {}),
          };
        }),
      );
      for (const [k, t] of Object.entries(out)) {
        await check.forward(`${caseName}.${k}`, t);
        t.dispose();
      }
    }

    // Gradient cases: soft Dice on the raw low-res logits of one mask token.
    const p1 = meta.cases?.p1_point_multimask;
    // Token 4 of the raw masks is HQ-SAM2's HQ mask.
    for (const [gname, token] of [['grad_single', 0], ['grad_multi1', 1], ['grad_hq', 4]] as const) {
      if (!golden.has(`${gname}.loss`) || !p1) continue;
      const target = await targetLowRes(golden, h0, w0, model.gridSize * 4);
      owned.push(target);
      await check.forward(`${gname}.target_low`, target);
      const dec = model.maskDecoder;
      const params: Record<string, Tensor> = {
        d_upscale0_weight: dec.upConv0.weight.get(),
        d_tok2img_q_weight: dec.transformer.layers[0].crossTokenToImage.qProj.weight.get(),
        d_iou_token: dec.iouToken.weight.get(),
        ...(dec instanceof MaskDecoderHQ ? { d_hf_token: dec.hfToken.weight.get() } : {}),
      };
      for (const t of Object.values(params)) t.requiresGrad = true;
      const click = tensor(p1.points.flat(), [1, p1.points.length, 2], { requiresGrad: true });
      owned.push(click);
      try {
        const loss = tidy(() => {
          const r = predictor.decode({ points: click, labels: [p1.labels], multimaskOutput: false });
          const logits = slice(r.raw.masks, [null, { start: token, end: token + 1 }]);
          return softDiceLoss(logits, target, { smooth: 1 });
        });
        owned.push(loss);
        await check.forward(`${gname}.loss`, loss);
        backward(loss);
        const dPoint = click.grad ? click.grad.view([click.shape[1], 2], false) : null;
        await check.grad(`${gname}.d_point`, dPoint);
        dPoint?.dispose();
        for (const [k, t] of Object.entries(params)) await check.grad(`${gname}.${k}`, t.grad);
        // d loss / d sparse: the same loss from a leaf copy of the sparse embedding.
        const sparseLeaf = noGrad(() => tidy(() => predictor.decode({ points: click, labels: [p1.labels] }).sparse));
        const leaf = tensor(await sparseLeaf.data(), sparseLeaf.shape, { requiresGrad: true });
        sparseLeaf.dispose();
        owned.push(leaf);
        const loss2 = tidy(() => {
          const f = predictor.getFeatures();
          const r = dec.predictMasks(f.imageEmbed, model.promptEncoder.denseEncoding(), leaf, model.promptEncoder.noMaskDense(1), f.highRes);
          return softDiceLoss(slice(r.masks, [null, { start: token, end: token + 1 }]), target, { smooth: 1 });
        });
        owned.push(loss2);
        backward(loss2);
        await check.grad(`${gname}.d_sparse`, leaf.grad);
      } finally {
        for (const t of Object.values(params)) {
          t.requiresGrad = false;
          t.grad?.dispose();
          t.grad = null;
        }
      }
    }
    // Inputs are read, not recomputed; every other golden tensor must have been compared.
    check.reportUnchecked((k) => k !== 'input.image' && k !== 'input.target_mask');
  } finally {
    for (const t of owned) t.dispose();
    predictor.dispose();
    model.dispose();
  }
}

/** The target mask resized (bilinear, align_corners false) to the low-res grid, [1, 1, s, s]. */
async function targetLowRes(golden: SafetensorsFile, h: number, w: number, s: number): Promise<Tensor> {
  const m = await golden.readF32('input.target_mask');
  return tidy(() => interpolate(tensor(m, [1, 1, h, w]), { size: [s, s], mode: 'bilinear', alignCorners: false }));
}
