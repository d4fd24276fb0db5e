/**
 * The model side of the page, free of DOM and messaging (the worker wraps it; tests drive it in
 * Node): one SAM 2 model, an optional shift block, and an embedding cache keyed by frame id.
 *
 * - `encode` runs SAM 2's image encoder once per frame (a `Sam2ImagePredictor` per frame owns
 *   the features); later clicks on that frame only run the prompt encoder and mask decoder.
 *   With precomputed features attached (a `bench embed` feature cache, see
 *   precomputed-features.ts) a frame they hold is set from them (`setFeatures`) instead — when
 *   they were made by the loaded SAM 2 for a frame of this size; otherwise the reply says why
 *   and the frame is encoded.
 * - `decode` segments one object from its prompt. A single click with no box takes SAM 2's
 *   multimask output and the mask with the highest predicted IoU (the paper's protocol; with
 *   RP-SAM2 exactly `RpSam2Predictor.predict`). More prompts take the single-mask output, the
 *   official advice for unambiguous prompts. With RP-SAM2 every positive click goes through the
 *   shift block first; negative clicks and boxes are used as given. The mask is a function of
 *   (frame, prompt, method) alone, so undo and method toggles reproduce it exactly.
 */
import { getBackend, init, noGrad, NoAdapterError, tensor, tidy, type ByteSource } from '@rpsam2/tensor';
import {
  loadDefaultSam2,
  loadSam2,
  parseOfficialConfig,
  Sam2ImagePredictor,
  Sam2WeightsError,
  type RgbImage,
  type Sam2Config,
  type Sam2LoadReport,
  type ImageFeatures,
  type Sam2Model,
} from '@rpsam2/sam2';
import { CheckpointFileError, DEFAULT_SHIFT_BLOCK_SAM2, loadShiftBlockFrom, openCheckpointSource, RpSam2Predictor, type ShiftBlock } from '@rpsam2/rpsam2';
import { EmbeddingCache } from './embedding-cache.js';
import { modelMismatch, PrecomputedFeatures, sourceHash, type CacheFiles, type PrecomputedFrame } from './precomputed-features.js';
import { defaultShiftBlockMismatch, type DecodeReply, type EncodeReply, type ErrorCode, type FeaturesInfo, type InitReply, type Method, type ModelInfo, type ObjectPrompt, type ShiftBlockInfo, type WeightDType } from './protocol.js';

/** How the page names the shift block shipped with `@rpsam2/rpsam2` (trained for the default model). */
export const DEFAULT_SHIFT_BLOCK_LABEL = `default (rpsam2-synthetic, for ${DEFAULT_SHIFT_BLOCK_SAM2})`;

/** An error with a protocol code (the page words its message by code). */
export class StudioError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StudioError';
  }
}

/** Maps any thrown value to a protocol error code and message. */
export function classifyError(e: unknown): { code: ErrorCode; message: string } {
  if (e instanceof StudioError) return { code: e.code, message: e.message };
  if (e instanceof NoAdapterError) return { code: 'no-webgpu', message: e.message };
  if (e instanceof Sam2WeightsError) return { code: 'weights-mismatch', message: e.message };
  if (e instanceof CheckpointFileError) return { code: 'bad-file', message: e.message };
  const message = e instanceof Error ? e.message : String(e);
  // A lost device (driver reset, GPU process crash) fails whatever was running at the time.
  if (/device (was )?lost|device is lost|instance reference no longer exists/i.test(message)) return { code: 'device-lost', message };
  return { code: 'internal', message };
}

/** Attempts at getting an adapter: Chromium can answer null while its GPU process is (re)starting. */
const ADAPTER_ATTEMPTS = 3;

/** `init()` with a few retries when the browser offers no adapter; then a browser-worded no-WebGPU error. */
async function initWithRetry() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await init();
    } catch (e) {
      if (!(e instanceof NoAdapterError)) throw e;
      if (attempt < ADAPTER_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, 1000 * attempt));
        continue;
      }
      throw new StudioError(
        'no-webgpu',
        'This browser has WebGPU but offers no GPU adapter (requestAdapter() returned null): the GPU or its driver is blocklisted, or WebGPU is switched off. Chrome and Edge show why on chrome://gpu; on Linux start Chromium with --enable-unsafe-webgpu (plus --enable-features=Vulkan when there is no GPU).',
      );
    }
  }
}

/** Default embedding budget: 1 GiB of GPU memory (≈ 250 frames of the default model, 60 of Hiera-L at 1024). */
export const DEFAULT_CACHE_BYTES = 1024 ** 3;

/** Where the weights of {@link StudioEngine.loadModel} come from. */
export type ModelSource =
  | { kind: 'default'; weights: ByteSource; configJson: string }
  | { kind: 'file'; weights: ByteSource; label: string; configJson: string | null; configName: string | null; size: string | null };

export class StudioEngine {
  private model: Sam2Model | null = null;
  private info: ModelInfo | null = null;
  /** Whether the loaded model is the embedded default one (the only one the default shift block fits). */
  private defaultModel = false;
  private shift: { block: ShiftBlock; info: ShiftBlockInfo } | null = null;
  private readonly cache: EmbeddingCache<Sam2ImagePredictor>;
  /** Recent encoder times (ms) of this model, for progress estimates. */
  private encodeTimes: number[] = [];
  /** The loaded model's weights file (its hash identifies the model to a feature cache; computed once, on demand). */
  private weights: { name: string; source: ByteSource; hash: Promise<string> | null } | null = null;
  /** Attached precomputed features, and whether they fit the loaded model (null: fit; checked once per model). */
  private features: { store: PrecomputedFeatures; mismatch: Promise<string | null> | null } | null = null;

  constructor(cacheBytes = DEFAULT_CACHE_BYTES) {
    this.cache = new EmbeddingCache(cacheBytes);
  }

  /**
   * Acquires the WebGPU device (navigator.gpu in a browser or worker; after initNode in Node).
   * `onLost` is called if the device is lost later (everything on it is gone then).
   */
  async init(onLost?: (message: string) => void): Promise<InitReply> {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    // initNode() in Node leaves a backend behind; browsers need navigator.gpu.
    let backend;
    try {
      backend = getBackend();
    } catch {
      if (!gpu) {
        throw new StudioError(
          'no-webgpu',
          'This browser exposes no WebGPU (navigator.gpu is undefined). Use Chrome or Edge 113+ (on Linux start Chromium with --enable-unsafe-webgpu), or Firefox/Safari with WebGPU enabled.',
        );
      }
      backend = await initWithRetry();
    }
    if (onLost) {
      void backend.device.lost.then((info) => {
        if (info.reason !== 'destroyed') onLost(info.message || 'the GPU device was lost');
      });
    }
    const a = backend.info.adapter;
    return {
      adapter: [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' / ') || 'unknown adapter',
      maxBinding: backend.info.limits.maxStorageBufferBindingSize,
      shaderF16: backend.info.features.shaderF16,
    };
  }

  get modelInfo(): ModelInfo | null {
    return this.info;
  }

  get shiftBlockInfo(): ShiftBlockInfo | null {
    return this.shift?.info ?? null;
  }

  /** The loaded model (tests compare against it). */
  get sam2Model(): Sam2Model | null {
    return this.model;
  }

  /** Bytes of the cached embeddings. */
  get cacheBytes(): number {
    return this.cache.bytes;
  }

  /** Frame ids with a cached embedding, least recently used first. */
  cachedFrames(): string[] {
    return this.cache.ids();
  }

  /** Mean of the recent encoder times of this model (ms), or 0 before the first. */
  get expectedEncodeMs(): number {
    const t = this.encodeTimes;
    return t.length ? t.reduce((a, b) => a + b, 0) / t.length : 0;
  }

  /**
   * Loads a SAM 2 model. The current model stays in use until the new one has loaded; then its
   * embeddings are dropped (they belong to the old weights), and a shift block that does not fit
   * the new model is dropped too (reported in `droppedShiftBlock`): one of other shapes, and the
   * default shift block with any model but the default one (its shapes may match by chance).
   */
  async loadModel(source: ModelSource, dtype: WeightDType = 'f32', onProgress?: (done: number, total: number) => void): Promise<ModelInfo> {
    const t0 = performance.now();
    let loaded: { model: Sam2Model; report: Sam2LoadReport; config: Sam2Config };
    let label: string;
    if (source.kind === 'default') {
      loaded = await loadDefaultSam2({ weights: source.weights, configJson: source.configJson, dtype });
      label = `default model (${loaded.config.name})`;
    } else {
      let config: Sam2Config | undefined;
      if (source.configJson !== null) {
        try {
          config = parseOfficialConfig(JSON.parse(source.configJson), (source.configName ?? 'custom').replace(/\.(json|ya?ml)$/i, ''));
        } catch (e) {
          throw new StudioError('bad-file', `${source.configName ?? 'config'}: not a SAM 2 config in the official layout (${(e as Error).message})`);
        }
      }
      try {
        const r = await loadSam2({ weights: source.weights, config, size: config ? undefined : (source.size ?? undefined), dtype, onProgress });
        loaded = { ...r, config: r.model.cfg };
      } catch (e) {
        if (e instanceof Sam2WeightsError) throw e;
        const msg = (e as Error).message;
        // Unknown sizes and unreadable files are the user's file, not our bug.
        throw new StudioError(/does not match an official size|give a config/.test(msg) ? 'weights-mismatch' : 'bad-file', `${source.label}: ${msg}`);
      }
      label = source.label;
    }
    const { model, report } = loaded;
    this.cache.clear();
    this.model?.dispose();
    this.model = model;
    this.defaultModel = source.kind === 'default';
    this.encodeTimes = [];
    this.weights = { name: source.kind === 'default' ? 'weights.safetensors' : source.label, source: source.weights, hash: null };
    if (this.features) this.features.mismatch = null;
    let dropped: string | null = null;
    if (this.shift && (!this.shiftFits(this.shift.block) || (this.shift.info.defaultFor !== null && !this.defaultModel))) {
      dropped = this.shift.info.label;
      this.shift.block.dispose();
      this.shift = null;
    }
    this.info = {
      label,
      config: model.cfg.name,
      imageSize: model.cfg.imageSize,
      parameters: report.parameters,
      format: report.format,
      dtype: report.dtype,
      ms: performance.now() - t0,
      droppedShiftBlock: dropped,
    };
    return this.info;
  }

  private shiftFits(block: ShiftBlock): boolean {
    const m = this.model;
    return !!m && block.config.dModel === m.dim && block.config.imageTokens === m.gridSize * m.gridSize;
  }

  /** Loads a shift block (training checkpoint or plain weights) for the current model. */
  async loadShiftBlock(source: ByteSource, label: string): Promise<ShiftBlockInfo> {
    return this.openShiftBlock(source, label, null);
  }

  /**
   * Loads the shift block shipped with `@rpsam2/rpsam2` (the bytes of its weights file); refused
   * unless the default model is loaded, the only one it was trained for.
   */
  async loadDefaultShiftBlock(weights: ByteSource): Promise<ShiftBlockInfo> {
    const m = this.requireModel();
    if (!this.defaultModel) throw new StudioError('shift-block-mismatch', defaultShiftBlockMismatch(DEFAULT_SHIFT_BLOCK_SAM2, this.info?.label ?? m.cfg.name));
    return this.openShiftBlock(weights, DEFAULT_SHIFT_BLOCK_LABEL, DEFAULT_SHIFT_BLOCK_SAM2);
  }

  private async openShiftBlock(source: ByteSource, label: string, defaultFor: string | null): Promise<ShiftBlockInfo> {
    const m = this.requireModel();
    const ck = await openCheckpointSource(source, { label });
    const c = ck.shiftBlock;
    if (c.dModel !== m.dim || c.imageTokens !== m.gridSize * m.gridSize) {
      throw new StudioError(
        'shift-block-mismatch',
        `${label}: this shift block was trained for a SAM 2 with d = ${c.dModel} and ${c.imageTokens} image tokens, but the loaded model '${m.cfg.name}' has d = ${m.dim} and ${m.gridSize}×${m.gridSize} = ${m.gridSize * m.gridSize} image tokens; load the SAM 2 weights it was trained with`,
      );
    }
    let block: ShiftBlock;
    try {
      block = await loadShiftBlockFrom(ck);
    } catch (e) {
      throw new StudioError('shift-block-mismatch', `${label}: ${(e as Error).message}`);
    }
    this.shift?.block.dispose();
    const info: ShiftBlockInfo = {
      label,
      parameters: block.paramCount(),
      layers: c.layers,
      dModel: c.dModel,
      kind: ck.meta?.kind ?? 'weights',
      epoch: ck.meta ? ck.meta.state.epoch : null,
      defaultFor,
    };
    this.shift = { block, info };
    return info;
  }

  private requireModel(): Sam2Model {
    if (!this.model) throw new StudioError('no-model', 'no SAM 2 model is loaded yet');
    return this.model;
  }

  /**
   * Attaches a feature cache (null detaches): its index is read and checked now; with a model
   * loaded, the reply says whether its features fit that model (`mismatch`, a sentence, when not).
   */
  async attachFeatures(files: CacheFiles | null): Promise<FeaturesInfo | null> {
    if (!files) {
      this.features = null;
      return null;
    }
    let store: PrecomputedFeatures;
    try {
      store = await PrecomputedFeatures.open(files);
    } catch (e) {
      throw new StudioError('bad-file', (e as Error).message);
    }
    this.features = { store, mismatch: null };
    const s = store.settings.sam2;
    return { label: files.label, frames: store.size, model: `${s.config} (${s.weights})`, mismatch: this.model ? await this.featuresMismatch() : null };
  }

  /** Why the attached features do not fit the loaded model (null: they fit, or none attached). */
  private featuresMismatch(): Promise<string | null> {
    const f = this.features;
    const m = this.model;
    const w = this.weights;
    if (!f || !m || !w) return Promise.resolve(null);
    f.mismatch ??= modelMismatch(
      f.store.settings,
      { config: m.cfg.name, imageSize: m.cfg.imageSize, dim: m.dim, weightsName: w.name, weightsHash: () => (w.hash ??= sourceHash(w.source)) },
      f.store.files.label,
    );
    return f.mismatch;
  }

  /**
   * The precomputed features of a frame as GPU tensors, or why there are none for it that fit
   * (`note` null: the cache simply does not hold the frame).
   */
  private async precomputed(cacheKey: string, image: RgbImage): Promise<{ features: ImageFeatures; origHW: [number, number] } | { note: string | null }> {
    const f = this.features;
    const m = this.requireModel();
    if (!f || !f.store.has(cacheKey)) return { note: null };
    const mismatch = await this.featuresMismatch();
    if (mismatch) return { note: mismatch };
    let fr: PrecomputedFrame | null;
    try {
      fr = await f.store.read(cacheKey);
    } catch (e) {
      return { note: `precomputed features of ${cacheKey} could not be read (${(e as Error).message}); encoding it` };
    }
    if (!fr) return { note: `the precomputed features of ${cacheKey} are listed in ${f.store.files.label} but their file is missing; encoding it` };
    const [h, w] = fr.origHW;
    if (h !== image.height || w !== image.width) return { note: `the precomputed features of ${cacheKey} were made from a ${w}×${h} image, this frame is ${image.width}×${image.height}; encoding it` };
    const g = m.gridSize;
    const want = [
      [1, m.dim, g, g],
      [1, m.dim / 8, 4 * g, 4 * g],
      [1, m.dim / 4, 2 * g, 2 * g],
    ];
    const got = [fr.imageEmbed.shape, fr.highRes[0].shape, fr.highRes[1].shape];
    if (got.some((s, i) => s.join() !== want[i].join())) return { note: `the precomputed features of ${cacheKey} have shapes ${got.map((s) => `[${s}]`).join(', ')}, the loaded model needs ${want.map((s) => `[${s}]`).join(', ')}; encoding it` };
    const features = noGrad(() =>
      tidy(() => ({
        imageEmbed: tensor(fr.imageEmbed.data, fr.imageEmbed.shape),
        highRes: [tensor(fr.highRes[0].data, fr.highRes[0].shape), tensor(fr.highRes[1].data, fr.highRes[1].shape)] as [ReturnType<typeof tensor>, ReturnType<typeof tensor>],
      })),
    );
    return { features, origHW: [h, w] };
  }

  /** Whether the frame's embedding is cached. */
  has(frameId: string): boolean {
    return this.cache.has(frameId);
  }

  /**
   * Runs the image encoder on a frame (once: a cached frame returns at once) — or, when the
   * attached feature cache holds `cacheKey` for the loaded model, sets its precomputed features.
   */
  async encode(frameId: string, image: RgbImage, cacheKey?: string): Promise<EncodeReply> {
    const model = this.requireModel();
    if (this.cache.get(frameId)) return { frameId, ms: 0, cached: true, evicted: [], cacheBytes: this.cache.bytes, source: 'session', featuresNote: null };
    const t0 = performance.now();
    const pre = cacheKey ? await this.precomputed(cacheKey, image) : { note: null };
    const predictor = new Sam2ImagePredictor(model);
    try {
      if ('features' in pre) predictor.setFeatures(pre.features, pre.origHW);
      else await predictor.setImage(image);
    } catch (e) {
      predictor.dispose();
      throw e;
    }
    const ms = performance.now() - t0;
    if (!('features' in pre)) this.encodeTimes = [...this.encodeTimes.slice(-4), ms];
    const f = predictor.getFeatures();
    const bytes = [f.imageEmbed, f.highRes[0], f.highRes[1]].reduce((s, t) => s + 4 * t.shape.reduce((a, b) => a * b, 1), 0);
    const evicted = this.cache.set(frameId, predictor, bytes);
    return { frameId, ms, cached: false, evicted, cacheBytes: this.cache.bytes, source: 'features' in pre ? 'precomputed' : 'encoder', featuresNote: 'note' in pre ? pre.note : null };
  }

  /** Drops one frame's embedding, or all (null). */
  forget(frameId: string | null): void {
    if (frameId === null) this.cache.clear();
    else this.cache.delete(frameId);
  }

  /** Segments one object of an encoded frame (see the module documentation). */
  async decode(frameId: string, prompt: ObjectPrompt, method: Method): Promise<DecodeReply> {
    this.requireModel();
    const predictor = this.cache.get(frameId);
    if (!predictor) throw new StudioError('not-encoded', `frame '${frameId}' has no embedding (encode it first)`);
    const t0 = performance.now();
    const [h, w] = predictor.originalSizes[0];
    let rp: RpSam2Predictor | null = null;
    if (method === 'rpsam2') {
      if (!this.shift) throw new StudioError('no-shift-block', 'RP-SAM2 needs a shift block: load a shift-block checkpoint first');
      // A thin wrapper over the frame's predictor (never disposed: the cache owns the features).
      rp = new RpSam2Predictor(predictor, this.shift.block);
    }
    const points = prompt.points;
    const single = points.length === 1 && points[0].label === 1 && !prompt.box;
    if (rp && single) {
      const r = await rp.predict([points[0].x, points[0].y]);
      return { frameId, method, width: w, height: h, mask: r.mask, iou: r.score, maskIndex: r.maskIndex, refined: [r.refined], ms: performance.now() - t0 };
    }
    let coords = points.map((p) => [p.x, p.y]);
    let refined: [number, number][] | null = null;
    if (rp) {
      const positives = points.filter((p) => p.label === 1).map((p) => [p.x, p.y] as [number, number]);
      refined = positives.length ? await rp.refine(positives) : [];
      let k = 0;
      coords = points.map((p) => (p.label === 1 ? refined![k++] : [p.x, p.y]));
    }
    const box = prompt.box ? [prompt.box.x0, prompt.box.y0, prompt.box.x1, prompt.box.y1] : undefined;
    // SAM 2's one best-mask path (the same as RpSam2Predictor.predict's and the bench's).
    const [r] = await predictor.predictBest({
      points: coords.length ? coords : undefined,
      labels: coords.length ? points.map((p) => p.label) : undefined,
      box,
      multimaskOutput: single,
    });
    return { frameId, method, width: w, height: h, mask: r.mask, iou: r.score, maskIndex: r.maskIndex, refined, ms: performance.now() - t0 };
  }

  /** Frees the model, the shift block and every embedding. */
  dispose(): void {
    this.cache.clear();
    this.shift?.block.dispose();
    this.shift = null;
    this.model?.dispose();
    this.model = null;
    this.info = null;
    this.defaultModel = false;
    this.weights = null;
    this.features = null;
  }
}
