/**
 * The labeling page's controller: frames, labels, the model worker, the view and the panels.
 *
 * Flow: frames are opened (drop, pickers, or a synthetic frame); showing a frame decodes it,
 * draws it and asks the worker to encode it (once: the worker caches embeddings for the
 * session; the next frame is encoded in the background). A click starts an object (or, with
 * Ctrl/⌘ or Shift, adds a positive or negative click to the current one); each prompt change
 * asks the worker to decode, and the answer is applied only if the prompt is still the same.
 * Every label change is one undo step. Exports take the accepted objects (current objects are
 * accepted first).
 */
import weightsUrl from '@rpsam2/sam2/models/synthetic/weights.safetensors?url';
import defaultConfigJson from '@rpsam2/sam2/models/synthetic/config.json?raw';
// The shift block shipped for the default model: loaded with it, so RP-SAM2 works at once.
import shiftWeightsUrl from '@rpsam2/rpsam2/models/synthetic/weights.safetensors?url';
import { encodeRle } from '../../sam2/src/image/coco-rle.js';
import { buildCoco } from './export/coco.js';
import { buildDatasetZip, buildMasksZip, type DatasetFrame } from './export/dataset-zip.js';
import { download, stamp } from './export/download.js';
import type { ExportFrame } from './export/frames.js';
import { addFrames, type FrameEntry, type IncomingFile } from './frames/frame-list.js';
import { bitmapPixels, decodeFrameBitmap, thumbnail } from './frames/decode-frame.js';
import { filesFromDrop, filesFromInput } from './frames/open-files.js';
import { syntheticFrameFile } from './frames/synthetic-frame.js';
import { actionFor, SHORTCUT_HELP, type Action } from './keyboard.js';
import { classListProblem, defaultClasses, loadClasses, newClass, saveClasses, type LabelClass } from './state/classes.js';
import { History } from './state/history.js';
import {
  acceptDraft,
  addPoint,
  deleteObject,
  discardDraft,
  EMPTY_LABELS,
  hasPrompt,
  objectAt,
  promptKey,
  select,
  setBox,
  setClass,
  withMethod,
  withResult,
  type FrameLabels,
  type MaskResult,
} from './state/labels.js';
import { CanvasView, isTyping, type Markers, type Modifiers } from './view/canvas-view.js';
import { ERROR_TITLES, Messages } from './view/messages.js';
import { overlayPixels } from './view/overlay.js';
import { classList, definitionList, el, frameRow, objectList, type FrameRow } from './view/panels.js';
import { cacheKeyOf, cacheRootOf, inCacheFolder, isCacheFilePath } from './worker/cache-paths.js';
import { ModelClient, ModelError } from './worker/model-client.js';
import { defaultShiftBlockMismatch, type FeaturesInfo, type FeaturesSource, type Method, type ModelInfo, type ObjectPrompt, type Progress, type PromptBox, type Request, type ShiftBlockInfo, type ShiftBlockSource, type WeightDType } from './worker/protocol.js';

/** Per-frame page state (the labels live in their own map). */
interface FrameStatus {
  decode: 'new' | 'ok' | 'bad';
  decodeError: string | null;
  width: number;
  height: number;
  thumb: string | null;
  embed: 'none' | 'queued' | 'encoding' | 'cached' | 'error';
  embedError: string | null;
  progress: number | null;
}

/** The load-model request. */
type LoadModelRequest = Extract<Request, { type: 'load-model' }>;

/** Restarts of the model worker after lost GPU devices before the page gives up. */
const MAX_RESTARTS = 3;

/** How many decode answers are remembered (undo/redo and method toggles reuse them). */
const MEMO_LIMIT = 300;

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page element #${id} is missing`);
  return e;
}

export class StudioApp {
  private worker!: Worker;
  private client!: ModelClient;
  /** The model and shift block in use, to load them again after a lost device. */
  private modelRequest: LoadModelRequest | null = null;
  private shiftSource: ShiftBlockSource | null = null;
  private restarts = 0;
  private restarting = false;
  private readonly view: CanvasView;
  private readonly msg: Messages;
  private frames: FrameEntry[] = [];
  private readonly status = new Map<string, FrameStatus>();
  private readonly labels = new Map<string, FrameLabels>();
  private readonly encodes = new Map<string, Promise<void>>();
  private readonly decoding = new Set<string>();
  private readonly memo = new Map<string, MaskResult>();
  /** Objects to accept as soon as their mask arrives (Enter, or a new click, came first), by frame|prompt key. */
  private readonly acceptWhenReady = new Map<string, { classId: number; prompt: ObjectPrompt; method: Method }>();
  private readonly history = new History<FrameLabels>();
  private current = -1;
  private bitmap: { id: string; bitmap: ImageBitmap } | null = null;
  private classes: LabelClass[];
  private classId: number;
  private method: Method = 'sam2';
  private nextObjectId = 1;
  private webgpu: 'pending' | 'ok' | 'missing' = 'pending';
  private adapter = '';
  private model: ModelInfo | null = null;
  private modelLoading = false;
  private shift: ShiftBlockInfo | null = null;
  /** Counts shift-block replacements: an RP-SAM2 answer of a replaced block is stale. */
  private shiftGeneration = 0;
  private dtype: WeightDType = 'f32';
  /** Precomputed features (a `bench embed` cache) to use instead of the encoder where they fit: `?features=<url>`, or a cache folder dropped with the frames. */
  private featuresSource: FeaturesSource | null = null;
  private features: FeaturesInfo | null = null;
  private hover: { x: number; y: number } | null = null;
  private syntheticSeed = (Date.now() % 100000) | 0;

  constructor(private readonly makeWorker: () => Worker) {
    this.connect();
    this.msg = new Messages($('banners'), $('toasts'), $('status-text'), $('status-bar'));
    this.view = new CanvasView($('stage-canvas'), {
      click: (x, y, mods) => this.onClick(x, y, mods),
      box: (box, mods) => this.onBox(box, mods),
      hover: (p) => {
        this.hover = p;
        this.renderStatusRight();
      },
    });
    this.view.interactive = false;
    this.classes = loadClasses(safeStorage());
    this.classId = this.classes[0].id;
    this.wireControls();
    this.renderClasses();
    this.renderHelp();
    this.renderAll();
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
    this.msg.status('starting WebGPU in the model worker…', 'busy');
    try {
      const r = await this.client.call({ type: 'init' });
      this.webgpu = 'ok';
      this.adapter = r.adapter;
    } catch (e) {
      this.webgpu = 'missing';
      const err = e as ModelError;
      this.msg.banner(
        'webgpu',
        'error',
        ERROR_TITLES['no-webgpu'],
        `${err.message}\n\nYou can still open and browse frames, but masks need WebGPU.`,
      );
      this.msg.status('no WebGPU: masks are unavailable', null);
      this.renderAll();
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
  private async attachFeatures(source: FeaturesSource): Promise<void> {
    this.featuresSource = source;
    try {
      this.features = await this.client.call({ type: 'attach-features', source });
    } catch (e) {
      if (this.lostDevice(e)) return;
      this.features = null;
      this.featuresSource = null;
      this.msg.banner('features', 'warning', 'Precomputed features could not be read', `${(e as Error).message}\n\nFrames are encoded by the image encoder.`);
      return;
    }
    const f = this.features;
    if (!f) return;
    if (f.mismatch) this.msg.banner('features', 'warning', 'Precomputed features not used: another SAM 2 made them', f.mismatch);
    else {
      this.msg.dismiss('features');
      this.msg.notice(`Precomputed features of ${f.frames} frame${f.frames === 1 ? '' : 's'} from ${f.label}: those frames skip the image encoder.`);
    }
  }

  /**
   * The GPU device was lost (driver reset, GPU process crash): a new worker gets a new device,
   * the same model and shift block are loaded again and frames are encoded again on demand.
   * Labels stay. After MAX_RESTARTS the page gives up and says so.
   */
  private async recover(message: string): Promise<void> {
    if (this.restarting) return;
    this.model = null;
    this.view.interactive = false;
    this.encodes.clear();
    for (const s of this.status.values()) {
      s.embed = 'none';
      s.progress = null;
    }
    this.client.failAll(new ModelError('device-lost', message));
    this.worker.terminate();
    if (this.restarts >= MAX_RESTARTS) {
      this.msg.banner('device', 'error', ERROR_TITLES['device-lost'], `${message}\n\nThe GPU failed ${this.restarts + 1} times; export your labels and reload the page.`);
      this.msg.status('the GPU device is lost', null);
      this.renderAll();
      return;
    }
    this.restarting = true;
    this.restarts++;
    this.msg.banner('device', 'warning', ERROR_TITLES['device-lost'], `${message}\n\nRestarting the model worker and loading the model again; your labels are kept.`);
    this.renderFrames();
    this.renderAll();
    try {
      this.connect();
      await this.start();
      if (this.model && this.shiftSource) await this.loadShiftBlock(this.shiftSource, true);
    } finally {
      this.restarting = false;
    }
    if (this.model) {
      this.msg.dismiss('device');
      this.msg.notice('The model worker was restarted after the GPU device was lost.', 'warning');
      for (const id of this.labels.keys()) this.ensureDecoded(id);
    }
  }

  /** Handles a failed call: a lost device starts a recovery (true), anything else is the caller's (false). */
  private lostDevice(e: unknown): boolean {
    if (e instanceof ModelError && e.code === 'device-lost') {
      void this.recover(e.message);
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- model

  private async loadModel(request: LoadModelRequest): Promise<void> {
    this.modelLoading = true;
    this.renderAll();
    const what = request.spec.kind === 'default' ? 'the default model' : request.spec.name;
    this.msg.status(`loading ${what}…`, 'busy');
    try {
      const info = await this.client.call(request, (p) => this.onProgress(p));
      // Another model: its embeddings and masks differ (a reload of the same one keeps the masks).
      if (request !== this.modelRequest) this.memo.clear();
      this.model = info;
      this.modelRequest = request;
      this.msg.dismiss('weights');
      for (const s of this.status.values()) {
        s.embed = 'none';
        s.progress = null;
      }
      this.encodes.clear();
      this.renderFrames();
      if (info.droppedShiftBlock) {
        const defaultFor = this.shift?.defaultFor;
        if (defaultFor) this.msg.banner('shift', 'warning', 'The default shift block was unloaded: RP-SAM2 is off', defaultShiftBlockMismatch(defaultFor, info.label));
        else this.msg.banner('shift', 'warning', 'The shift block was unloaded', `${info.droppedShiftBlock} was trained for another SAM 2 model; load a shift block for ${info.label}.`);
        this.shift = null;
        this.shiftSource = null;
        this.setMethod('sam2', false);
      }
      this.msg.status(`${info.label} ready (${(info.parameters / 1e6).toFixed(1)} M parameters, ${info.imageSize}², loaded in ${(info.ms / 1000).toFixed(1)} s)`, null);
      this.view.interactive = true;
      if (this.currentFrame()) void this.ensureEncoded(this.currentFrame()!.id, 'now').catch(() => {});
    } catch (e) {
      if (this.lostDevice(e)) return;
      const err = e as ModelError;
      this.msg.banner('weights', 'error', ERROR_TITLES[err.code] ?? 'Loading failed', `${err.message}${this.model ? `\n\nStill using ${this.model.label}.` : ''}`);
      this.msg.status(this.model ? `${this.model.label} ready` : 'no model loaded', null);
    } finally {
      this.modelLoading = false;
      this.renderAll();
    }
  }

  private async loadWeightsFiles(files: File[]): Promise<void> {
    if (!files.length) return;
    if (this.webgpu !== 'ok') return void this.msg.notice('No WebGPU: weights cannot be loaded.', 'warning');
    const weights = files.find((f) => /\.(pt|pth|safetensors)$/i.test(f.name));
    const config = files.find((f) => /\.json$/i.test(f.name));
    if (!weights) {
      this.msg.banner('weights', 'error', ERROR_TITLES['bad-file'], `Choose a SAM 2 checkpoint (.pt or .safetensors), optionally together with its config (.json in the official layout). Got: ${files.map((f) => f.name).join(', ')}`);
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
  private async loadShiftBlock(source: ShiftBlockSource, quiet = false): Promise<void> {
    if (!this.model) return void this.msg.notice('Load a SAM 2 model first.', 'warning');
    const what = source.kind === 'default' ? 'the default shift block' : `shift block ${source.name}`;
    this.msg.status(`loading ${what}…`, 'busy');
    try {
      this.shift = await this.client.call({ type: 'load-shift-block', source }, (p) => this.onProgress(p));
      this.shiftSource = source;
      this.msg.dismiss('shift');
      if (!quiet) this.forgetRpSam2Answers();
      if (!quiet && source.kind === 'file') {
        this.msg.notice(`Shift block ${source.name} loaded: RP-SAM2 is on (press r to compare with SAM 2).`);
        this.setMethod('rpsam2', true);
      } else if (!quiet) {
        // SAM 2 was the method only for want of a block; objects already drawn keep theirs.
        this.setMethod('rpsam2', false);
      }
      this.msg.status(source.kind === 'default' ? `${this.model.label} ready with the default shift block: RP-SAM2 is on (r: SAM 2 alone)` : `shift block ${source.name} ready`, null);
    } catch (e) {
      if (this.lostDevice(e)) return;
      const err = e as ModelError;
      this.msg.banner('shift', 'error', ERROR_TITLES[err.code] ?? 'Loading failed', err.message);
      this.msg.status('shift block not loaded', null);
    }
    this.renderAll();
  }

  /**
   * Another shift block is in use (a user's replaces the default one): the old block's RP-SAM2
   * answers are forgotten and the current object, if RP-SAM2, is segmented again. Accepted
   * objects keep their masks.
   */
  private forgetRpSam2Answers(): void {
    this.shiftGeneration++;
    for (const [k, r] of this.memo) if (r.method === 'rpsam2') this.memo.delete(k);
    const f = this.currentFrame();
    const l = f ? this.labelsOf(f.id) : EMPTY_LABELS;
    const d = l.draft;
    if (f && d?.method === 'rpsam2' && d.result) this.setLabels(f.id, { ...l, draft: { ...d, result: null } });
  }

  private onProgress(p: Progress): void {
    if (p.frameId) {
      const s = this.status.get(p.frameId);
      if (s) {
        s.embed = p.stage === 'queued' ? 'queued' : 'encoding';
        s.progress = p.stage === 'encode' && p.total > 0 ? Math.min(0.95, p.done / p.total) : null;
        this.renderFrameRow(p.frameId);
      }
      if (p.frameId === this.currentFrame()?.id) {
        const f = this.currentFrame()!;
        const secs = (p.done / 1000).toFixed(1);
        const text = p.stage === 'queued' ? `${f.name}: ${p.text}` : `encoding ${f.name}: ${secs} s${p.total ? ` of ≈ ${(p.total / 1000).toFixed(1)} s` : ''}`;
        this.msg.status(text, p.stage === 'encode' && p.total ? Math.min(0.95, p.done / p.total) : 'busy');
        this.renderStageOverlay();
      }
      return;
    }
    this.msg.status(p.text, p.total > 0 ? p.done / p.total : 'busy');
  }

  // ---------------------------------------------------------------- frames

  private async addFiles(incoming: IncomingFile[], errors: string[] = []): Promise<void> {
    // A feature cache folder among the files (index.json + images/*.safetensors): attached, not listed as frames.
    const root = cacheRootOf(incoming.map((f) => f.path));
    if (root !== null) {
      const cacheFiles = incoming.filter((f) => inCacheFolder(root, f.path));
      incoming = incoming.filter((f) => !inCacheFolder(root, f.path));
      const source: FeaturesSource = { kind: 'files', files: cacheFiles.map((f) => f.file), paths: cacheFiles.map((f) => f.path) };
      // Before the worker is up, start() attaches it.
      if (this.webgpu === 'ok') void this.attachFeatures(source);
      else if (this.webgpu === 'pending') this.featuresSource = source;
    }
    const { frames, added, skipped: skippedAll, duplicates } = addFrames(this.frames, incoming);
    const skipped = skippedAll.filter((p) => !isCacheFilePath(p));
    this.frames = frames;
    for (const f of added) {
      this.status.set(f.id, { decode: 'new', decodeError: null, width: 0, height: 0, thumb: null, embed: 'none', embedError: null, progress: null });
    }
    if (skipped.length) this.msg.notice(`Skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} that are not images (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''}).`, 'warning');
    if (duplicates.length) this.msg.notice(`${duplicates.length} frame${duplicates.length === 1 ? ' was' : 's were'} open already.`);
    if (errors.length) this.msg.banner('drop', 'warning', 'Some dropped entries could not be read', errors.join('\n'));
    this.renderFrames();
    if (added.length && this.current < 0) await this.showFrame(this.frames.indexOf(added[0]));
    else if (added.length) this.msg.notice(`Added ${added.length} frame${added.length === 1 ? '' : 's'}.`);
    this.renderAll();
  }

  private currentFrame(): FrameEntry | null {
    return this.frames[this.current] ?? null;
  }

  private labelsOf(id: string): FrameLabels {
    return this.labels.get(id) ?? EMPTY_LABELS;
  }

  /** Decodes a frame's file (keeping its size and a thumbnail); marks it bad with a banner on failure. */
  private async decodeBitmap(f: FrameEntry): Promise<ImageBitmap | null> {
    const s = this.status.get(f.id)!;
    try {
      const bitmap = await decodeFrameBitmap(f.file, f.path);
      const first = s.decode !== 'ok';
      s.decode = 'ok';
      s.width = bitmap.width;
      s.height = bitmap.height;
      if (first) {
        s.thumb = thumbnail(bitmap);
        this.renderFrameRow(f.id);
      }
      return bitmap;
    } catch (e) {
      s.decode = 'bad';
      s.decodeError = (e as Error).message;
      this.msg.banner(`decode:${f.id}`, 'error', 'A frame could not be decoded', `${s.decodeError}\n\nThe frame stays in the list (marked ⚠) and is left out of the exports.`);
      this.renderFrameRow(f.id);
      return null;
    }
  }

  private async showFrame(index: number): Promise<void> {
    if (index < 0 || index >= this.frames.length) return;
    const prev = this.currentFrame();
    if (prev && index !== this.current) this.acceptCurrent(prev.id);
    this.current = index;
    const f = this.frames[index];
    this.renderFrames();
    this.renderAll();
    if (this.bitmap?.id !== f.id) {
      this.bitmap?.bitmap.close();
      this.bitmap = null;
      const bm = await this.decodeBitmap(f);
      if (this.currentFrame()?.id !== f.id) {
        bm?.close();
        return;
      }
      this.bitmap = bm ? { id: f.id, bitmap: bm } : null;
    }
    this.view.setFrame(this.bitmap?.bitmap ?? null, f.id);
    this.refreshView();
    this.renderAll();
    if (this.bitmap) {
      // Failures are shown on the frame (and in a banner) by ensureEncoded.
      this.ensureEncoded(f.id, 'now').catch(() => {});
      // The next frame is encoded meanwhile, so that moving on is instant.
      const next = this.frames[index + 1];
      if (next) this.ensureEncoded(next.id, 'background').catch(() => {});
    }
  }

  /** Encodes a frame in the worker once; resolves when its embedding is cached. */
  private ensureEncoded(id: string, priority: 'now' | 'background'): Promise<void> {
    const s = this.status.get(id);
    if (!s || !this.model || s.decode === 'bad') return Promise.resolve();
    const pending = this.encodes.get(id);
    if (pending) return pending;
    const run = async () => {
      const f = this.frames.find((x) => x.id === id);
      if (!f) return;
      const bitmap = this.bitmap?.id === id ? this.bitmap.bitmap : await this.decodeBitmap(f);
      if (!bitmap) throw new Error(`${f.path} could not be decoded`);
      const pixels = bitmapPixels(bitmap);
      if (bitmap !== this.bitmap?.bitmap) bitmap.close();
      s.embed = 'queued';
      this.renderFrameRow(id);
      const r = await this.client.call({ type: 'encode', frameId: id, pixels, priority, cacheKey: cacheKeyOf(f.path) }, (p) => this.onProgress(p));
      if (r.featuresNote) this.msg.banner('features', 'warning', 'Precomputed features not used', r.featuresNote);
      s.embed = 'cached';
      s.progress = null;
      for (const gone of r.evicted) {
        const g = this.status.get(gone);
        if (g) g.embed = 'none';
        this.encodes.delete(gone);
        this.renderFrameRow(gone);
      }
      this.renderFrameRow(id);
      if (id === this.currentFrame()?.id) {
        const how = r.cached ? `${f.name}: embedding cached` : r.source === 'precomputed' ? `${f.name}: precomputed features from ${this.features?.label ?? 'the feature cache'} (${(r.ms / 1000).toFixed(1)} s): click an instrument` : `${f.name} encoded in ${(r.ms / 1000).toFixed(1)} s: click an instrument`;
        this.msg.status(how, null);
      }
    };
    const p = run().catch((e: unknown) => {
      this.encodes.delete(id);
      if (this.lostDevice(e)) throw e;
      s.embed = 'error';
      s.embedError = (e as Error).message;
      this.renderFrameRow(id);
      if (e instanceof ModelError) this.msg.banner(`encode:${id}`, 'error', `Encoding ${id} failed`, e.message);
      throw e;
    });
    this.encodes.set(id, p);
    p.then(
      () => this.renderStageOverlay(),
      () => this.renderStageOverlay(),
    );
    return p;
  }

  // ---------------------------------------------------------------- labels

  /** Replaces a frame's labels as one undo step, then decodes the draft if needed. */
  private commit(frameId: string, next: FrameLabels, label: string): void {
    const before = this.labelsOf(frameId);
    if (before === next) return;
    this.history.record(frameId, label, before, next);
    this.labels.set(frameId, next);
    this.afterLabelsChanged(frameId);
  }

  /** Replaces labels without an undo step (decode answers). */
  private setLabels(frameId: string, next: FrameLabels): void {
    if (this.labelsOf(frameId) === next) return;
    this.labels.set(frameId, next);
    this.afterLabelsChanged(frameId);
  }

  private afterLabelsChanged(frameId: string): void {
    this.ensureDecoded(frameId);
    this.renderFrameRow(frameId);
    if (frameId === this.currentFrame()?.id) {
      this.refreshView();
      this.renderAll();
    }
  }

  /** Asks the worker for the draft's mask when it has none (memoised by prompt). */
  private ensureDecoded(frameId: string): void {
    const d = this.labelsOf(frameId).draft;
    if (!d || d.result || !hasPrompt(d.prompt)) return;
    const key = promptKey(d.prompt, d.method);
    const memoKey = `${frameId}|${key}`;
    const known = this.memo.get(memoKey);
    if (known) {
      this.applyResult(frameId, key, known);
      return;
    }
    if (this.decoding.has(memoKey)) return;
    if (d.method === 'rpsam2' && !this.shift) {
      this.msg.notice('RP-SAM2 needs a shift block: load one (Shift block…) or press r for SAM 2.', 'warning');
      return;
    }
    this.decoding.add(memoKey);
    this.renderAll();
    const prompt = d.prompt;
    const method = d.method;
    const generation = this.shiftGeneration;
    let stale = false;
    (async () => {
      await this.ensureEncoded(frameId, 'now');
      const r = await this.client.call({ type: 'decode', frameId, prompt, method });
      // Segmented by a shift block replaced meanwhile: asked again below, with the new one.
      if (method === 'rpsam2' && generation !== this.shiftGeneration) {
        stale = true;
        return;
      }
      const result: MaskResult = { method: r.method, width: r.width, height: r.height, mask: r.mask, iou: r.iou, refined: r.refined };
      this.memo.set(memoKey, result);
      if (this.memo.size > MEMO_LIMIT) this.memo.delete(this.memo.keys().next().value!);
      this.applyResult(frameId, key, result);
    })()
      .catch((e: unknown) => {
        // After a lost device the decode is asked again once the model is back.
        if (this.lostDevice(e) || this.restarting) return;
        const err = e as ModelError;
        this.acceptWhenReady.delete(memoKey);
        this.msg.banner('decode', 'error', err instanceof ModelError ? (ERROR_TITLES[err.code] ?? 'Segmentation failed') : 'Segmentation failed', err.message);
      })
      .finally(() => {
        this.decoding.delete(memoKey);
        if (stale) this.ensureDecoded(frameId);
        this.renderAll();
      });
  }

  private applyResult(frameId: string, key: string, result: MaskResult): void {
    const memoKey = `${frameId}|${key}`;
    const now = this.labelsOf(frameId);
    const waiting = this.acceptWhenReady.get(memoKey);
    if (waiting) {
      // Accepted (Enter, a new click, another frame) before the answer came: add it now, as one
      // step, whether or not it is still the current object.
      this.acceptWhenReady.delete(memoKey);
      const isCurrent = !!now.draft && promptKey(now.draft.prompt, now.draft.method) === key;
      const accepted = acceptDraft({ ...now, draft: { ...waiting, result } }, this.nextObjectId);
      if (accepted.objects.length > now.objects.length) {
        this.nextObjectId++;
        this.commit(frameId, { ...accepted, draft: isCurrent ? null : now.draft }, 'accept');
        return;
      }
      this.msg.notice('The mask is empty: nothing was accepted.', 'warning');
    }
    const next = withResult(now, key, result);
    if (next !== now) this.setLabels(frameId, next);
  }

  /** Accepts the frame's draft now, or as soon as its mask arrives. */
  private acceptCurrent(frameId: string): void {
    const l = this.labelsOf(frameId);
    const d = l.draft;
    if (!d) return;
    if (d.result) {
      const next = acceptDraft(l, this.nextObjectId);
      if (next === l) {
        this.msg.notice('The mask is empty: nothing to accept (Esc discards it).', 'warning');
        return;
      }
      this.nextObjectId++;
      this.commit(frameId, next, 'accept');
    } else if (hasPrompt(d.prompt)) {
      const memoKey = `${frameId}|${promptKey(d.prompt, d.method)}`;
      this.acceptWhenReady.set(memoKey, { classId: d.classId, prompt: d.prompt, method: d.method });
    }
  }

  private requireModel(): boolean {
    if (this.webgpu === 'missing') {
      this.msg.notice('No WebGPU in this browser: masks are unavailable.', 'warning');
      return false;
    }
    if (!this.model) {
      this.msg.notice('The model is still loading…');
      return false;
    }
    return true;
  }

  private onClick(x: number, y: number, mods: Modifiers): void {
    const f = this.currentFrame();
    if (!f || !this.requireModel()) return;
    const l = this.labelsOf(f.id);
    if (mods.alt) {
      const o = objectAt(l, x, y);
      this.commit(f.id, select(l, o?.id ?? null), 'select');
      return;
    }
    if (mods.shift || mods.ctrl) {
      if (!l.draft) {
        if (mods.shift) return void this.msg.notice('Shift + click adds a negative click to the current object: click an instrument first.');
      }
      this.commit(f.id, addPoint(l, { x, y, label: mods.shift ? 0 : 1 }, this.classId, this.method), mods.shift ? 'negative click' : 'positive click');
      return;
    }
    // A plain click starts a new object; the current one is kept.
    this.acceptCurrent(f.id);
    const base = discardDraft(this.labelsOf(f.id));
    this.commit(f.id, addPoint(base, { x, y, label: 1 }, this.classId, this.method), 'click');
  }

  private onBox(box: PromptBox, mods: Modifiers): void {
    const f = this.currentFrame();
    if (!f || !this.requireModel()) return;
    if (!mods.ctrl) this.acceptCurrent(f.id);
    const base = mods.ctrl ? this.labelsOf(f.id) : discardDraft(this.labelsOf(f.id));
    this.commit(f.id, setBox(base, box, this.classId, this.method), 'box');
  }

  private setMethod(method: Method, redecode: boolean): void {
    if (method === 'rpsam2' && !this.shift) {
      this.msg.notice('RP-SAM2 needs a shift block: use “Shift block…” to load a checkpoint.', 'warning');
      return;
    }
    this.method = method;
    const f = this.currentFrame();
    if (redecode && f) {
      const l = this.labelsOf(f.id);
      const next = withMethod(l, method);
      if (next !== l) this.commit(f.id, next, method === 'rpsam2' ? 'RP-SAM2' : 'SAM 2');
    }
    this.renderAll();
  }

  private setCurrentClass(id: number): void {
    this.classId = id;
    const f = this.currentFrame();
    if (f) {
      const l = this.labelsOf(f.id);
      const target = l.draft ? null : l.selected;
      if (l.draft || target !== null) this.commit(f.id, setClass(l, target, id), 'class');
    }
    this.renderClasses();
    this.renderAll();
  }

  private undoRedo(redo: boolean): void {
    const step = redo ? this.history.redo() : this.history.undo();
    if (!step) return void this.msg.notice(redo ? 'Nothing to redo.' : 'Nothing to undo.');
    const state = redo ? step.after : step.before;
    this.labels.set(step.frameId, state);
    const index = this.frames.findIndex((f) => f.id === step.frameId);
    if (index !== this.current && index >= 0) void this.showFrame(index);
    this.afterLabelsChanged(step.frameId);
    this.msg.status(`${redo ? 'redid' : 'undid'}: ${step.label}`, null);
  }

  private onKey(e: KeyboardEvent): void {
    if (isTyping(e.target)) return;
    const a = actionFor(e);
    if (!a) return;
    e.preventDefault();
    this.run(a);
  }

  /** Performs a keyboard action. */
  run(a: Action): void {
    const f = this.currentFrame();
    switch (a.type) {
      case 'class': {
        const c = this.classes[a.index];
        if (c) this.setCurrentClass(c.id);
        return;
      }
      case 'next-frame':
        return void this.showFrame(Math.min(this.frames.length - 1, this.current + 1));
      case 'prev-frame':
        return void this.showFrame(Math.max(0, this.current - 1));
      case 'undo':
        return this.undoRedo(false);
      case 'redo':
        return this.undoRedo(true);
      case 'toggle-method':
        return this.setMethod(this.method === 'sam2' ? 'rpsam2' : 'sam2', true);
      case 'toggle-box':
        this.view.boxMode = !this.view.boxMode;
        return this.renderAll();
      case 'accept':
        if (f) this.acceptCurrent(f.id);
        return;
      case 'discard':
        if (f) this.commit(f.id, discardDraft(this.labelsOf(f.id)), 'discard');
        return;
      case 'delete-selected': {
        const l = f ? this.labelsOf(f.id) : null;
        if (f && l?.selected != null) this.commit(f.id, deleteObject(l, l.selected), 'delete');
        else if (f && l?.draft) this.commit(f.id, discardDraft(l), 'discard');
        return;
      }
      case 'fit':
        return this.view.fit();
      case 'zoom':
        return this.view.zoomBy(a.factor);
      case 'help':
        ($('help-box') as HTMLDetailsElement).open = !($('help-box') as HTMLDetailsElement).open;
        return;
    }
  }

  // ---------------------------------------------------------------- classes

  private updateClasses(next: LabelClass[]): boolean {
    const problem = classListProblem(next);
    if (problem) {
      this.msg.notice(`Class list not changed: ${problem}.`, 'warning');
      this.renderClasses();
      return false;
    }
    this.classes = next;
    if (!next.some((c) => c.id === this.classId)) this.classId = next[0].id;
    saveClasses(safeStorage(), next);
    this.renderClasses();
    this.refreshView();
    this.renderAll();
    return true;
  }

  private classUsage(): Map<number, number> {
    const m = new Map<number, number>();
    for (const l of this.labels.values()) for (const o of l.objects) m.set(o.classId, (m.get(o.classId) ?? 0) + 1);
    return m;
  }

  // ---------------------------------------------------------------- export

  /** Accepts every current object, then the labeled frames (objects in acceptance order). */
  private exportFrames(): ExportFrame[] {
    for (const f of this.frames) {
      const d = this.labelsOf(f.id).draft;
      if (d?.result) this.acceptCurrent(f.id);
    }
    const out: ExportFrame[] = [];
    for (const f of this.frames) {
      const l = this.labelsOf(f.id);
      const s = this.status.get(f.id)!;
      if (l.objects.length === 0 || s.decode !== 'ok') continue;
      out.push({
        fileName: f.name,
        caseName: f.caseName,
        width: s.width,
        height: s.height,
        objects: l.objects.map((o) => ({ id: o.id, classId: o.classId, mask: o.result.mask, method: o.method, prompt: o.prompt, refined: o.result.refined, iou: o.result.iou })),
      });
    }
    return out;
  }

  private async exportAs(kind: 'coco' | 'zip' | 'png'): Promise<void> {
    const frames = this.exportFrames();
    const pending = [...this.labels.values()].filter((l) => l.draft && !l.draft.result && hasPrompt(l.draft.prompt)).length;
    if (pending) this.msg.notice(`${pending} object${pending === 1 ? ' is' : 's are'} still being segmented and ${pending === 1 ? 'is' : 'are'} not in this export.`, 'warning');
    if (frames.length === 0) return void this.msg.notice('Nothing to export yet: label an instrument first.', 'warning');
    const n = frames.reduce((s, f) => s + f.objects.length, 0);
    try {
      if (kind === 'coco') {
        const paths = new Map(this.frames.map((f) => [`${f.caseName}/${f.name}`, f.path]));
        const doc = buildCoco(frames, this.classes, { fileName: (f) => paths.get(`${f.caseName}/${f.fileName}`) ?? f.fileName });
        download(JSON.stringify(doc), 'instances.json', 'application/json');
      } else if (kind === 'png') {
        download(await buildMasksZip(frames, this.classes), `masks_${stamp()}.zip`, 'application/zip');
      } else {
        this.msg.status('building the archive…', 'busy');
        const withImages: DatasetFrame[] = [];
        for (const f of frames) {
          const entry = this.frames.find((x) => x.caseName === f.caseName && x.name === f.fileName)!;
          withImages.push({ ...f, image: new Uint8Array(await entry.file.arrayBuffer()) });
        }
        const zip = await buildDatasetZip(withImages, this.classes, { model: this.model?.label ?? 'none', shiftBlock: this.shift?.label ?? null });
        download(zip, `rpsam2-labels_${stamp()}.zip`, 'application/zip');
      }
      this.msg.status(`exported ${n} object${n === 1 ? '' : 's'} on ${frames.length} frame${frames.length === 1 ? '' : 's'}`, null);
    } catch (e) {
      this.msg.banner('export', 'error', 'Export failed', (e as Error).message);
    }
  }

  // ---------------------------------------------------------------- rendering

  private refreshView(): void {
    const f = this.currentFrame();
    const s = f ? this.status.get(f.id) : undefined;
    if (!f || !s || s.decode !== 'ok') {
      this.view.setOverlay(null, 0, 0);
      this.view.setMarkers([]);
      return;
    }
    const l = this.labelsOf(f.id);
    this.view.setOverlay(overlayPixels(l, this.classes, s.width, s.height), s.width, s.height);
    const color = (id: number) => this.classes.find((c) => c.id === id)?.color ?? '#ffffff';
    const markers: Markers[] = [];
    const sel = l.objects.find((o) => o.id === l.selected);
    if (sel) markers.push({ points: sel.prompt.points, refined: sel.result.refined, box: sel.prompt.box, color: color(sel.classId) });
    if (l.draft) markers.push({ points: l.draft.prompt.points, refined: l.draft.result?.refined ?? null, box: l.draft.prompt.box, color: color(l.draft.classId) });
    this.view.setMarkers(markers);
  }

  private frameRowData(f: FrameEntry): FrameRow {
    const s = this.status.get(f.id)!;
    const state = s.decode === 'bad' ? 'bad' : s.embed;
    const title = s.decode === 'bad' ? (s.decodeError ?? '') : s.embed === 'error' ? (s.embedError ?? '') : `${f.path} → ${f.caseName}${s.width ? ` (${s.width}×${s.height})` : ''}`;
    return { id: f.id, name: f.name, caseName: f.caseName, thumb: s.thumb, state, progress: s.progress, objects: this.labelsOf(f.id).objects.length, title };
  }

  private renderFrames(): void {
    const ul = $('frames');
    ul.replaceChildren();
    this.frames.forEach((f, i) => ul.append(frameRow(this.frameRowData(f), i === this.current, () => void this.showFrame(i))));
    if (this.frames.length === 0) ul.append(el('li', 'empty', 'No frames yet.'));
    ul.querySelector('.current')?.scrollIntoView({ block: 'nearest' });
    $('frame-count').textContent = this.frames.length ? String(this.frames.length) : '';
    $('dropzone').hidden = this.frames.length > 0;
  }

  private renderFrameRow(id: string): void {
    const i = this.frames.findIndex((f) => f.id === id);
    if (i < 0) return;
    const old = $('frames').querySelector<HTMLElement>(`li[data-id="${CSS.escape(id)}"]`);
    const row = frameRow(this.frameRowData(this.frames[i]), i === this.current, () => void this.showFrame(i));
    if (old) old.replaceWith(row);
    if (i === this.current) this.renderStageOverlay();
  }

  private renderClasses(): void {
    classList($('classes'), this.classes, this.classId, this.classUsage(), {
      pick: (id) => this.setCurrentClass(id),
      rename: (id, key, name) => this.updateClasses(this.classes.map((c) => (c.id === id ? { ...c, key, name } : c))),
      remove: (id) => {
        const used = this.classUsage().get(id) ?? 0;
        if (used) return void this.msg.notice(`${used} object${used === 1 ? ' uses' : 's use'} this class: re-label or delete ${used === 1 ? 'it' : 'them'} first.`, 'warning');
        if (this.classes.length === 1) return void this.msg.notice('The last class cannot be removed.', 'warning');
        this.updateClasses(this.classes.filter((c) => c.id !== id));
      },
    });
  }

  private renderHelp(): void {
    const table = $('help');
    table.replaceChildren();
    for (const [k, v] of SHORTCUT_HELP) {
      const tr = el('tr');
      tr.append(el('td', 'keys', k), el('td', '', v));
      table.append(tr);
    }
  }

  /** The frame's state over the canvas (encoding progress, decode failure). */
  private renderStageOverlay(): void {
    const box = $('stage-note');
    const f = this.currentFrame();
    const s = f ? this.status.get(f.id) : undefined;
    if (!f || !s) return void (box.hidden = true);
    let text = '';
    if (s.decode === 'bad') text = `⚠ ${s.decodeError}`;
    else if (this.model && (s.embed === 'encoding' || s.embed === 'queued')) text = s.embed === 'queued' ? 'waiting for the encoder…' : `encoding this frame${s.progress !== null ? ` · ${Math.round(s.progress * 100)} %` : '…'} (once per frame; clicks are answered as soon as it is done)`;
    else if (s.embed === 'error') text = `⚠ encoder failed: ${s.embedError}`;
    box.hidden = !text;
    box.textContent = text;
    box.classList.toggle('bad', s.decode === 'bad' || s.embed === 'error');
  }

  private renderStatusRight(): void {
    const parts: string[] = [];
    if (this.hover) parts.push(`x ${this.hover.x}, y ${this.hover.y}`);
    const f = this.currentFrame();
    const s = f ? this.status.get(f.id) : undefined;
    if (s?.width) parts.push(`${s.width}×${s.height}`);
    parts.push(this.adapter ? `WebGPU: ${this.adapter}` : this.webgpu === 'missing' ? 'no WebGPU' : 'WebGPU: …');
    $('status-right').textContent = parts.join('  ·  ');
  }

  /** Everything that depends on the general state (cheap: small lists). */
  private renderAll(): void {
    const f = this.currentFrame();
    const l = f ? this.labelsOf(f.id) : EMPTY_LABELS;
    for (const b of document.querySelectorAll<HTMLButtonElement>('[data-method]')) {
      b.classList.toggle('active', b.dataset.method === this.method);
      b.disabled = b.dataset.method === 'rpsam2' && !this.shift;
      if (b.dataset.method === 'rpsam2') b.title = this.shift ? `RP-SAM2 with the shift block ${this.shift.label} (r)` : 'Load a shift block to use RP-SAM2';
    }
    $('box-mode').classList.toggle('active', this.view.boxMode);
    ($('undo') as HTMLButtonElement).disabled = !this.history.canUndo;
    ($('redo') as HTMLButtonElement).disabled = !this.history.canRedo;
    const haveModel = !!this.model && !this.modelLoading;
    ($('load-weights') as HTMLButtonElement).disabled = this.webgpu !== 'ok' || this.modelLoading;
    ($('load-shift') as HTMLButtonElement).disabled = !haveModel;
    const labeled = [...this.labels.values()].some((x) => x.objects.length > 0 || !!x.draft?.result);
    for (const id of ['export-coco', 'export-zip', 'export-png']) ($(id) as HTMLButtonElement).disabled = !labeled;
    document.body.classList.toggle('box-mode', this.view.boxMode);

    objectList($('objects'), l.objects, this.classes, l.selected, {
      select: (id) => f && this.commit(f.id, select(l, l.selected === id ? null : id), 'select'),
      remove: (id) => f && this.commit(f.id, deleteObject(l, id), 'delete'),
    });
    const d = l.draft;
    const dc = d ? this.classes.find((c) => c.id === d.classId) : undefined;
    const key = d && f ? `${f.id}|${promptKey(d.prompt, d.method)}` : '';
    const rows: [string, string][] = d
      ? [
          ['class', dc ? `${dc.key} · ${dc.name}` : '?'],
          ['method', d.method === 'rpsam2' ? 'RP-SAM2' : 'SAM 2'],
          ['prompt', `${d.prompt.points.filter((p) => p.label === 1).length} positive, ${d.prompt.points.filter((p) => p.label === 0).length} negative${d.prompt.box ? ', box' : ''}`],
          ['mask', d.result ? `pred. IoU ${d.result.iou.toFixed(3)} · ${d.result.mask.reduce((a, b) => a + b, 0).toLocaleString('en')} px` : this.decoding.has(key) ? 'segmenting…' : '—'],
          ...(d.result?.refined?.length
            ? ([['shift', d.result.refined.map((r, i) => { const p = d.prompt.points.filter((q) => q.label === 1)[i]; return `(${(r[0] - p.x).toFixed(1)}, ${(r[1] - p.y).toFixed(1)}) px`; }).join(' ')]] as [string, string][])
            : []),
        ]
      : [['', 'Click an instrument to start an object.']];
    definitionList($('draft-info'), rows);
    $('draft-actions').hidden = !d;

    const m = this.model;
    definitionList($('model-info'), [
      ['SAM 2', m ? m.label : this.webgpu === 'missing' ? 'unavailable (no WebGPU)' : 'loading…'],
      ...(m ? ([['size', `${(m.parameters / 1e6).toFixed(2)} M params · ${m.imageSize}² · ${m.dtype}`]] as [string, string][]) : []),
      ['shift block', this.shift ? `${this.shift.label} · ${(this.shift.parameters / 1e6).toFixed(2)} M params${this.shift.epoch !== null ? `, epoch ${this.shift.epoch}` : ''}` : 'none: RP-SAM2 off'],
    ]);
    this.renderStatusRight();
    this.renderStageOverlay();
    ($('stage') as HTMLElement).classList.toggle('has-frame', !!f);
    const name = f ? `${f.name}  (${this.current + 1} / ${this.frames.length})` : '';
    $('frame-title').textContent = name;
  }

  // ---------------------------------------------------------------- controls

  private wireControls(): void {
    const filesInput = $('files-input') as HTMLInputElement;
    const folderInput = $('folder-input') as HTMLInputElement;
    const weightsInput = $('weights-input') as HTMLInputElement;
    const shiftInput = $('shift-input') as HTMLInputElement;
    $('open-files').addEventListener('click', () => filesInput.click());
    $('open-folder').addEventListener('click', () => folderInput.click());
    $('dz-files').addEventListener('click', () => filesInput.click());
    $('dz-folder').addEventListener('click', () => folderInput.click());
    const synth = async () => {
      const file = await syntheticFrameFile(this.syntheticSeed++);
      await this.addFiles([{ file, path: `synthetic/${file.name}` }]);
      const i = this.frames.findIndex((f) => f.name === file.name);
      if (i >= 0) await this.showFrame(i);
    };
    $('synthetic').addEventListener('click', () => void synth());
    $('dz-synthetic').addEventListener('click', () => void synth());
    filesInput.addEventListener('change', () => {
      void this.addFiles(filesFromInput(filesInput.files));
      filesInput.value = '';
    });
    folderInput.addEventListener('change', () => {
      void this.addFiles(filesFromInput(folderInput.files));
      folderInput.value = '';
    });
    $('load-weights').addEventListener('click', () => weightsInput.click());
    weightsInput.addEventListener('change', () => {
      void this.loadWeightsFiles([...(weightsInput.files ?? [])]);
      weightsInput.value = '';
    });
    $('load-shift').addEventListener('click', () => shiftInput.click());
    shiftInput.addEventListener('change', () => {
      const file = shiftInput.files?.[0];
      if (file) void this.loadShiftBlock({ kind: 'file', file, name: file.name });
      shiftInput.value = '';
    });
    const dtype = $('dtype') as HTMLInputElement;
    dtype.addEventListener('change', () => {
      this.dtype = dtype.checked ? 'f16' : 'f32';
      this.msg.notice(`Weights load as ${this.dtype} from now on (reload the model to apply).`);
    });
    for (const b of document.querySelectorAll<HTMLButtonElement>('[data-method]')) b.addEventListener('click', () => this.setMethod(b.dataset.method as Method, true));
    $('box-mode').addEventListener('click', () => this.run({ type: 'toggle-box' }));
    $('undo').addEventListener('click', () => this.run({ type: 'undo' }));
    $('redo').addEventListener('click', () => this.run({ type: 'redo' }));
    $('accept').addEventListener('click', () => this.run({ type: 'accept' }));
    $('discard').addEventListener('click', () => this.run({ type: 'discard' }));
    $('export-coco').addEventListener('click', () => void this.exportAs('coco'));
    $('export-zip').addEventListener('click', () => void this.exportAs('zip'));
    $('export-png').addEventListener('click', () => void this.exportAs('png'));
    $('add-class').addEventListener('click', () => {
      const c = newClass(this.classes, `C${this.classes.length + 1}`, `Class ${this.classes.length + 1}`);
      this.updateClasses([...this.classes, c]);
    });
    $('reset-classes').addEventListener('click', () => {
      const used = this.classUsage();
      const defaults = defaultClasses();
      const missing = [...used.keys()].filter((id) => !defaults.some((c) => c.id === id));
      if (missing.length) return void this.msg.notice('Objects use classes that the default list does not have: re-label them first.', 'warning');
      this.updateClasses(defaults);
    });
    window.addEventListener('keydown', (e) => this.onKey(e));
    // Drag and drop anywhere on the page.
    const stage = $('stage');
    window.addEventListener('dragover', (e) => {
      e.preventDefault();
      stage.classList.add('dragging');
    });
    window.addEventListener('dragleave', (e) => {
      if (e.relatedTarget === null) stage.classList.remove('dragging');
    });
    window.addEventListener('drop', (e) => {
      e.preventDefault();
      stage.classList.remove('dragging');
      if (!e.dataTransfer) return;
      void filesFromDrop(e.dataTransfer).then(({ files, errors }) => this.addFiles(files, errors));
    });
  }

  // ---------------------------------------------------------------- test access

  /** A read-only view of the state for automated tests (window.__studio). */
  testApi() {
    const rle = (m: Uint8Array, w: number, h: number) => encodeRle({ width: w, height: h, data: m }).counts as number[];
    return {
      ready: () => ({ webgpu: this.webgpu, adapter: this.adapter, model: this.model, modelLoading: this.modelLoading || this.restarting, shiftBlock: this.shift, method: this.method, restarts: this.restarts }),
      frames: () =>
        this.frames.map((f) => {
          const s = this.status.get(f.id)!;
          return { id: f.id, name: f.name, caseName: f.caseName, decode: s.decode, decodeError: s.decodeError, embed: s.embed, width: s.width, height: s.height, objects: this.labelsOf(f.id).objects.length };
        }),
      current: () => this.currentFrame()?.id ?? null,
      busy: () => this.client.inFlight > 0 || this.decoding.size > 0,
      draft: () => {
        const f = this.currentFrame();
        const d = f ? this.labelsOf(f.id).draft : null;
        if (!d) return null;
        const r = d.result;
        return { classId: d.classId, method: d.method, prompt: d.prompt, done: !!r, iou: r?.iou ?? null, refined: r?.refined ?? null, width: r?.width ?? 0, height: r?.height ?? 0, rle: r ? rle(r.mask, r.width, r.height) : null };
      },
      objects: (frameId: string) =>
        this.labelsOf(frameId).objects.map((o) => ({ id: o.id, classId: o.classId, method: o.method, prompt: o.prompt, iou: o.result.iou, refined: o.result.refined, area: o.area, width: o.result.width, height: o.result.height, rle: rle(o.result.mask, o.result.width, o.result.height) })),
      classes: () => this.classes,
      banners: () => this.msg.bannerTexts(),
      /** Client (viewport) coordinates of a frame coordinate, for synthetic mouse input. */
      clientPoint: (x: number, y: number) => {
        const r = this.view.canvas.getBoundingClientRect();
        const p = this.view.frameToCss(x, y);
        return { x: r.left + p.x, y: r.top + p.y };
      },
    };
  }
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
