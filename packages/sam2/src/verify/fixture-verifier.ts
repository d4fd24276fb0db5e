/**
 * Recomputes every golden tensor of a SAM 2 fixture folder (the format of the shared
 * `sam2/tiny256`: meta.json, weights.safetensors, golden.safetensors) and compares: encoder
 * intermediates, prompt encodings, each prompt case's outputs, and the gradient cases (a soft
 * Dice loss on low-res logits, differentiated w.r.t. the click, the sparse embedding and three
 * decoder parameters).
 */
import {
  backward,
  clamp,
  forwardPasses,
  interpolate,
  maxAbsError,
  noGrad,
  relL2Error,
  GRAD_TOL,
  slice,
  softDiceLoss,
  tensor,
  tidy,
  type SafetensorsFile,
  type Tensor,
} from '@rpsam2/tensor';
import { parseOfficialConfig } from '../config.js';
import { loadWeights, type WeightSource } from '../nn/module.js';
import { Sam2Model, isVideoOnlyKey, type ImageFeatures } from '../model/sam2-model.js';
import { sinePositionEncoding } from '../model/position-encoding.js';
import { Sam2ImagePredictor, type Prompt } from '../predictor/image-predictor.js';
import { preprocess, type RgbImage } from '../predictor/transforms.js';

export interface CheckResult {
  name: string;
  kind: 'forward' | 'grad' | 'exact';
  passed: boolean;
  /** max abs error (forward) or relative L2 error (grad). */
  err: number;
  /** max |ref| (forward). */
  scale?: number;
  note?: string;
}

export interface FixtureInputs {
  meta: any;
  weights: WeightSource;
  golden: SafetensorsFile;
}

type Report = (r: CheckResult) => void;

async function compareForward(report: Report, golden: SafetensorsFile, name: string, got: Tensor | Float32Array, note?: string): Promise<void> {
  if (!golden.has(name)) return;
  const want = await golden.readF32(name);
  const data = got instanceof Float32Array ? got : await got.data();
  const wantShape = golden.entry(name).shape;
  const sameShape = (a: readonly number[], b: readonly number[]) =>
    a.join(',') === b.join(',') || (a.reduce((x, y) => x * y, 1) === 1 && b.reduce((x, y) => x * y, 1) === 1);
  if (!(got instanceof Float32Array) && !sameShape(got.shape, wantShape)) {
    report({ name, kind: 'forward', passed: false, err: Infinity, note: `shape [${got.shape}] vs golden [${wantShape}]` });
    return;
  }
  const e = maxAbsError(data, want);
  report({ name, kind: 'forward', passed: data.length === want.length && forwardPasses(e), err: e.err, scale: e.scale, note });
}

async function compareGrad(report: Report, golden: SafetensorsFile, name: string, got: Tensor | null): Promise<void> {
  if (!golden.has(name)) return;
  const want = await golden.readF32(name);
  const err = relL2Error(got ? await got.data() : null, want);
  report({ name, kind: 'grad', passed: err <= GRAD_TOL, err, note: got ? undefined : 'no gradient reached this tensor' });
}

/** The prompt of a fixture case in the predictor's terms. */
function casePrompt(c: any): Prompt {
  const p: Prompt = { multimaskOutput: Boolean(c.multimask), normalizeCoords: true };
  if (c.points) {
    p.points = c.points;
    p.labels = c.labels;
  }
  if (c.boxes) p.box = c.boxes.length === 1 ? c.boxes[0] : c.boxes;
  return p;
}

/** Runs every check; calls `report` per tensor as it goes. */
export async function verifyFixture(inputs: FixtureInputs, report: Report): Promise<void> {
  const { meta, weights, golden } = inputs;
  const cfg = parseOfficialConfig({ ...meta.model_config, image_size: meta.image_size ?? meta.model_config.image_size }, meta.variant ?? 'fixture');
  const model = new Sam2Model(cfg);
  const predictor = new Sam2ImagePredictor(model);
  const owned: Tensor[] = [];
  try {
    await loadWeights(model, weights, { ignore: isVideoOnlyKey });
    await model.promptEncoder.prepare();

    // Preprocessing from the raw image.
    const [h0, w0] = meta.orig_hw as [number, number];
    const imgBytes = await golden.readBytes('input.image');
    const image: RgbImage = { width: w0, height: h0, channels: 3, data: imgBytes };
    const pixelsOurs = preprocess(image, cfg.imageSize);
    owned.push(pixelsOurs);
    await compareForward(report, golden, 'input.pixels', pixelsOurs);

    // The encoder, fed the golden pixels so that each stage is checked on its own.
    const pixels = tensor(await golden.readF32('input.pixels'), golden.entry('input.pixels').shape);
    owned.push(pixels);
    const taps: Record<string, Float32Array> = {};
    const pending: Promise<void>[] = [];
    const tap = (name: string) => (t: Tensor) => {
      const copy = t.view(t.shape, false);
      pending.push(
        copy.data().then((d) => {
          taps[name] = d;
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
    for (const name of Object.keys(taps)) await compareForward(report, golden, name, taps[name]);
    for (let i = 0; i < 3; i++) {
      const name = `backbone.pos${i}`;
      if (!golden.has(name)) continue;
      const [, c, hh, ww] = golden.entry(name).shape;
      const pos = sinePositionEncoding(c, hh, ww);
      await compareForward(report, golden, name, pos);
      pos.dispose();
    }
    await compareForward(report, golden, 'embed.image_embed', features.imageEmbed);
    await compareForward(report, golden, 'embed.high_res0', features.highRes[0]);
    await compareForward(report, golden, 'embed.high_res1', features.highRes[1]);
    await compareForward(report, golden, 'prompt.dense_pe', model.promptEncoder.denseEncoding());
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
            dense: r.dense,
            low_res: clamp(r.lowRes, -32, 32),
            iou: r.iou,
            obj: r.raw.objectScore,
            ...(hasMasks ? { masks: interpolate(r.lowRes, { size: [h0, w0], mode: 'bilinear', alignCorners: false }) } : {}),
          };
        }),
      );
      for (const [k, t] of Object.entries(out)) {
        await compareForward(report, golden, `${caseName}.${k}`, t);
        t.dispose();
      }
    }

    // Gradient cases: soft Dice on the raw low-res logits of one mask token.
    const p1 = meta.cases?.p1_point_multimask;
    for (const [gname, token] of [['grad_single', 0], ['grad_multi1', 1]] as const) {
      if (!golden.has(`${gname}.loss`) || !p1) continue;
      const target = await targetLowRes(golden, h0, w0, model.gridSize * 4);
      owned.push(target);
      await compareForward(report, golden, `${gname}.target_low`, target);
      const dec = model.maskDecoder;
      const params = {
        d_upscale0_weight: dec.upConv0.weight.get(),
        d_tok2img_q_weight: dec.transformer.layers[0].crossTokenToImage.qProj.weight.get(),
        d_iou_token: dec.iouToken.weight.get(),
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
        await compareForward(report, golden, `${gname}.loss`, loss);
        backward(loss);
        const dPoint = click.grad ? click.grad.view([click.shape[1], 2], false) : null;
        await compareGrad(report, golden, `${gname}.d_point`, dPoint);
        dPoint?.dispose();
        for (const [k, t] of Object.entries(params)) await compareGrad(report, golden, `${gname}.${k}`, t.grad);
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
        await compareGrad(report, golden, `${gname}.d_sparse`, leaf.grad);
      } finally {
        for (const t of Object.values(params)) {
          t.requiresGrad = false;
          t.grad?.dispose();
          t.grad = null;
        }
      }
    }
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
