/**
 * The page's side of the model worker: starting WebGPU and loading the model (the default one,
 * or the user's weights), the shift block and precomputed features; encoding frames (once each,
 * the next frame in the background) and asking for masks; and recovering from a lost GPU device
 * with a fresh worker that loads the same model and shift block again (labels stay).
 */
import weightsUrl from '@rpsam2/sam2/models/synthetic/weights.safetensors?url';
import defaultConfigJson from '@rpsam2/sam2/models/synthetic/config.json?raw';
// The shift block shipped for the default model: loaded with it, so RP-SAM2 works at once.
import shiftWeightsUrl from '@rpsam2/rpsam2/models/synthetic/weights.safetensors?url';
import type { StudioApp } from '../app.js';
import { bitmapPixels } from '../frames/decode-frame.js';
import { ERROR_TITLES } from '../view/messages.js';
import { cacheKeyOf } from './cache-paths.js';
import { ModelClient, ModelError } from './model-client.js';
import {
  defaultShiftBlockMismatch,
  type FeaturesInfo,
  type FeaturesSource,
  type Method,
  type ModelInfo,
  type ObjectPrompt,
  type Progress,
  type Replies,
  type Request,
  type ShiftBlockInfo,
  type ShiftBlockSource,
  type WeightDType,
} from './protocol.js';

/** The load-model request. */
type LoadModelRequest = Extract<Request, { type: 'load-model' }>;

/** Restarts of the model worker after lost GPU devices before the page gives up. */
const MAX_RESTARTS = 3;

export class ModelSession {
  private worker!: Worker;
  client!: ModelClient;
  /** The model and shift block in use, to load them again after a lost device. */
  private modelRequest: LoadModelRequest | null = null;
  private shiftSource: ShiftBlockSource | null = null;
  restarts = 0;
  restarting = false;
  webgpu: 'pending' | 'ok' | 'missing' = 'pending';
  adapter = '';
  model: ModelInfo | null = null;
  modelLoading = false;
  shift: ShiftBlockInfo | null = null;
  /** Counts shift-block replacements: an RP-SAM2 answer of a replaced block is stale. */
  shiftGeneration = 0;
  dtype: WeightDType = 'f32';
  /** Precomputed features (a `bench embed` cache) to use instead of the encoder where they fit: `?features=<url>`, or a cache folder dropped with the frames. */
  featuresSource: FeaturesSource | null = null;
  private features: FeaturesInfo | null = null;
  private readonly encodes = new Map<string, Promise<void>>();

  constructor(
    private readonly app: StudioApp,
    private readonly makeWorker: () => Worker,
  ) {
    this.connect();
  }

  /** A fresh model worker and its client. */
  private connect(): void {
    this.worker = this.makeWorker();
    this.client = new ModelClient(this.worker, (ev) => {
      if (ev.type === 'device-lost') void this.recover(ev.message);
    });
  }

  /** Acquires WebGPU in the worker, then loads the model (the default one at first). */
  async start(): Promise<void> {
    const { msg } = this.app;
    msg.status('starting WebGPU in the model worker…', 'busy');
    try {
      const r = await this.client.call({ type: 'init' });
      this.webgpu = 'ok';
      this.adapter = r.adapter;
    } catch (e) {
      this.webgpu = 'missing';
      const err = e as ModelError;
      msg.banner(
        'webgpu',
        'error',
        ERROR_TITLES['no-webgpu'],
        `${err.message}\n\nYou can still open and browse frames, but masks need WebGPU.`,
      );
      msg.status('no WebGPU: masks are unavailable', null);
      this.app.render.all();
      return;
    }
    await this.loadModel(this.modelRequest ?? { type: 'load-model', spec: { kind: 'default', weightsUrl: new URL(weightsUrl, location.href).href, configJson: defaultConfigJson }, dtype: this.dtype });
    // The default model comes with the shift block shipped for it (after a lost device, recover()
    // loads whichever block was in use instead).
    if (this.model && this.modelRequest?.spec.kind === 'default' && !this.shiftSource) {
      await this.loadShiftBlock({ kind: 'default', url: new URL(shiftWeightsUrl, location.href).href });
    }
    // `?features=<url>`: a feature cache folder served next to the page or the frames (after a lost device: whichever is attached).
    const fromUrl = new URLSearchParams(location.search).get('features');
    this.featuresSource ??= fromUrl ? { kind: 'url', url: new URL(fromUrl, location.href).href } : null;
    if (this.model && this.featuresSource) await this.attachFeatures(this.featuresSource);
  }

  /**
   * Attaches precomputed features in the worker: frames they hold are set from them instead of
   * being encoded. Features made by another SAM 2 are reported (and not used: frames are encoded).
   */
  async attachFeatures(source: FeaturesSource): Promise<void> {
    const { msg } = this.app;
    this.featuresSource = source;
    try {
      this.features = await this.client.call({ type: 'attach-features', source });
    } catch (e) {
      if (this.lostDevice(e)) return;
      this.features = null;
      this.featuresSource = null;
      msg.banner('features', 'warning', 'Precomputed features could not be read', `${(e as Error).message}\n\nFrames are encoded by the image encoder.`);
      return;
    }
    const f = this.features;
    if (!f) return;
    if (f.mismatch) msg.banner('features', 'warning', 'Precomputed features not used: another SAM 2 made them', f.mismatch);
    else {
      msg.dismiss('features');
      msg.notice(`Precomputed features of ${f.frames} frame${f.frames === 1 ? '' : 's'} from ${f.label}: those frames skip the image encoder.`);
    }
  }

  /**
   * The GPU device was lost (driver reset, GPU process crash): a new worker gets a new device,
   * the same model and shift block are loaded again and frames are encoded again on demand.
   * Labels stay. After MAX_RESTARTS the page gives up and says so.
   */
  private async recover(message: string): Promise<void> {
    const { msg, view, session, render } = this.app;
    if (this.restarting) return;
    this.model = null;
    view.interactive = false;
    this.encodes.clear();
    for (const s of session.status.values()) {
      s.embed = 'none';
      s.progress = null;
    }
    this.client.failAll(new ModelError('device-lost', message));
    this.worker.terminate();
    if (this.restarts >= MAX_RESTARTS) {
      msg.banner('device', 'error', ERROR_TITLES['device-lost'], `${message}\n\nThe GPU failed ${this.restarts + 1} times; export your labels and reload the page.`);
      msg.status('the GPU device is lost', null);
      render.all();
      return;
    }
    this.restarting = true;
    this.restarts++;
    msg.banner('device', 'warning', ERROR_TITLES['device-lost'], `${message}\n\nRestarting the model worker and loading the model again; your labels are kept.`);
    render.frames();
    render.all();
    try {
      this.connect();
      await this.start();
      if (this.model && this.shiftSource) await this.loadShiftBlock(this.shiftSource, true);
    } finally {
      this.restarting = false;
    }
    if (this.model) {
      msg.dismiss('device');
      msg.notice('The model worker was restarted after the GPU device was lost.', 'warning');
      for (const id of session.labels.keys()) this.app.editor.ensureDecoded(id);
    }
  }

  /** Handles a failed call: a lost device starts a recovery (true), anything else is the caller's (false). */
  lostDevice(e: unknown): boolean {
    if (e instanceof ModelError && e.code === 'device-lost') {
      void this.recover(e.message);
      return true;
    }
    return false;
  }

  /** True when masks can be asked for; otherwise says why (no WebGPU, model still loading). */
  requireModel(): boolean {
    if (this.webgpu === 'missing') {
      this.app.msg.notice('No WebGPU in this browser: masks are unavailable.', 'warning');
      return false;
    }
    if (!this.model) {
      this.app.msg.notice('The model is still loading…');
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- model

  private async loadModel(request: LoadModelRequest): Promise<void> {
    const { msg, view, session, render, editor } = this.app;
    this.modelLoading = true;
    render.all();
    const what = request.spec.kind === 'default' ? 'the default model' : request.spec.name;
    msg.status(`loading ${what}…`, 'busy');
    try {
      const info = await this.client.call(request, (p) => this.onProgress(p));
      // Another model: its embeddings and masks differ (a reload of the same one keeps the masks).
      if (request !== this.modelRequest) editor.forgetAnswers();
      this.model = info;
      this.modelRequest = request;
      msg.dismiss('weights');
      for (const s of session.status.values()) {
        s.embed = 'none';
        s.progress = null;
      }
      this.encodes.clear();
      render.frames();
      if (info.droppedShiftBlock) {
        const defaultFor = this.shift?.defaultFor;
        if (defaultFor) msg.banner('shift', 'warning', 'The default shift block was unloaded: RP-SAM2 is off', defaultShiftBlockMismatch(defaultFor, info.label));
        else msg.banner('shift', 'warning', 'The shift block was unloaded', `${info.droppedShiftBlock} was trained for another SAM 2 model; load a shift block for ${info.label}.`);
        this.shift = null;
        this.shiftSource = null;
        editor.setMethod('sam2', false);
      }
      msg.status(`${info.label} ready (${(info.parameters / 1e6).toFixed(1)} M parameters, ${info.imageSize}², loaded in ${(info.ms / 1000).toFixed(1)} s)`, null);
      view.interactive = true;
      if (session.currentFrame()) void this.ensureEncoded(session.currentFrame()!.id, 'now').catch(() => {});
    } catch (e) {
      if (this.lostDevice(e)) return;
      const err = e as ModelError;
      msg.banner('weights', 'error', ERROR_TITLES[err.code] ?? 'Loading failed', `${err.message}${this.model ? `\n\nStill using ${this.model.label}.` : ''}`);
      msg.status(this.model ? `${this.model.label} ready` : 'no model loaded', null);
    } finally {
      this.modelLoading = false;
      render.all();
    }
  }

  /** Loads the user's SAM 2 checkpoint (with its config .json when chosen together). */
  async loadWeightsFiles(files: File[]): Promise<void> {
    const { msg } = this.app;
    if (!files.length) return;
    if (this.webgpu !== 'ok') return void msg.notice('No WebGPU: weights cannot be loaded.', 'warning');
    const weights = files.find((f) => /\.(pt|pth|safetensors)$/i.test(f.name));
    const config = files.find((f) => /\.json$/i.test(f.name));
    if (!weights) {
      msg.banner('weights', 'error', ERROR_TITLES['bad-file'], `Choose a SAM 2 checkpoint (.pt or .safetensors), optionally together with its config (.json in the official layout). Got: ${files.map((f) => f.name).join(', ')}`);
      return;
    }
    const configJson = config ? await config.text() : null;
    await this.loadModel({ type: 'load-model', spec: { kind: 'file', weights, name: weights.name, configJson, configName: config?.name ?? null, size: null }, dtype: this.dtype });
  }

  /**
   * Loads a shift block: the user's file (replacing the one in use; switches the current object to
   * RP-SAM2) or the default one (RP-SAM2 for the next clicks). `quiet`: a reload after a lost
   * device, which keeps the method.
   */
  async loadShiftBlock(source: ShiftBlockSource, quiet = false): Promise<void> {
    const { msg, editor } = this.app;
    if (!this.model) return void msg.notice('Load a SAM 2 model first.', 'warning');
    const what = source.kind === 'default' ? 'the default shift block' : `shift block ${source.name}`;
    msg.status(`loading ${what}…`, 'busy');
    try {
      this.shift = await this.client.call({ type: 'load-shift-block', source }, (p) => this.onProgress(p));
      this.shiftSource = source;
      msg.dismiss('shift');
      if (!quiet) editor.forgetRpSam2Answers();
      if (!quiet && source.kind === 'file') {
        msg.notice(`Shift block ${source.name} loaded: RP-SAM2 is on (press r to compare with SAM 2).`);
        editor.setMethod('rpsam2', true);
      } else if (!quiet) {
        // SAM 2 was the method only for want of a block; objects already drawn keep theirs.
        editor.setMethod('rpsam2', false);
      }
      msg.status(source.kind === 'default' ? `${this.model.label} ready with the default shift block: RP-SAM2 is on (r: SAM 2 alone)` : `shift block ${source.name} ready`, null);
    } catch (e) {
      if (this.lostDevice(e)) return;
      const err = e as ModelError;
      msg.banner('shift', 'error', ERROR_TITLES[err.code] ?? 'Loading failed', err.message);
      msg.status('shift block not loaded', null);
    }
    this.app.render.all();
  }

  private onProgress(p: Progress): void {
    const { msg, session, render } = this.app;
    if (p.frameId) {
      const s = session.status.get(p.frameId);
      if (s) {
        s.embed = p.stage === 'queued' ? 'queued' : 'encoding';
        s.progress = p.stage === 'encode' && p.total > 0 ? Math.min(0.95, p.done / p.total) : null;
        render.frameRow(p.frameId);
      }
      if (p.frameId === session.currentFrame()?.id) {
        const f = session.currentFrame()!;
        const secs = (p.done / 1000).toFixed(1);
        const text = p.stage === 'queued' ? `${f.name}: ${p.text}` : `encoding ${f.name}: ${secs} s${p.total ? ` of ≈ ${(p.total / 1000).toFixed(1)} s` : ''}`;
        msg.status(text, p.stage === 'encode' && p.total ? Math.min(0.95, p.done / p.total) : 'busy');
        render.stageOverlay();
      }
      return;
    }
    msg.status(p.text, p.total > 0 ? p.done / p.total : 'busy');
  }

  // ---------------------------------------------------------------- frames

  /** Encodes a frame in the worker once; resolves when its embedding is cached. */
  ensureEncoded(id: string, priority: 'now' | 'background'): Promise<void> {
    const { msg, session, render, nav } = this.app;
    const s = session.status.get(id);
    if (!s || !this.model || s.decode === 'bad') return Promise.resolve();
    const pending = this.encodes.get(id);
    if (pending) return pending;
    const run = async () => {
      const f = session.frames.find((x) => x.id === id);
      if (!f) return;
      const shown = nav.shownBitmap(id);
      const bitmap = shown ?? (await nav.decodeBitmap(f));
      if (!bitmap) throw new Error(`${f.path} could not be decoded`);
      const pixels = bitmapPixels(bitmap);
      if (bitmap !== nav.shownBitmap()) bitmap.close();
      s.embed = 'queued';
      render.frameRow(id);
      const r = await this.client.call({ type: 'encode', frameId: id, pixels, priority, cacheKey: cacheKeyOf(f.path) }, (p) => this.onProgress(p));
      if (r.featuresNote) msg.banner('features', 'warning', 'Precomputed features not used', r.featuresNote);
      s.embed = 'cached';
      s.progress = null;
      for (const gone of r.evicted) {
        const g = session.status.get(gone);
        if (g) g.embed = 'none';
        this.encodes.delete(gone);
        render.frameRow(gone);
      }
      render.frameRow(id);
      if (id === session.currentFrame()?.id) {
        const how = r.cached ? `${f.name}: embedding cached` : r.source === 'precomputed' ? `${f.name}: precomputed features from ${this.features?.label ?? 'the feature cache'} (${(r.ms / 1000).toFixed(1)} s): click an instrument` : `${f.name} encoded in ${(r.ms / 1000).toFixed(1)} s: click an instrument`;
        msg.status(how, null);
      }
    };
    const p = run().catch((e: unknown) => {
      this.encodes.delete(id);
      if (this.lostDevice(e)) throw e;
      s.embed = 'error';
      s.embedError = (e as Error).message;
      render.frameRow(id);
      if (e instanceof ModelError) msg.banner(`encode:${id}`, 'error', `Encoding ${id} failed`, e.message);
      throw e;
    });
    this.encodes.set(id, p);
    p.then(
      () => render.stageOverlay(),
      () => render.stageOverlay(),
    );
    return p;
  }

  /** The mask of a prompt on an encoded frame. */
  decode(frameId: string, prompt: ObjectPrompt, method: Method): Promise<Replies['decode']> {
    return this.client.call({ type: 'decode', frameId, prompt, method });
  }
}
