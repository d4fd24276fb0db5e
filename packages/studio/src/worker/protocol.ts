/**
 * The message protocol between the page (UI thread) and the model worker.
 *
 * The page sends {@link RequestEnvelope}s `{id, request}`; for each the worker answers with any
 * number of `progress` messages and then exactly one `ok` (with the reply type that
 * {@link Replies} maps the request type to) or `error` (an {@link ErrorCode} the page turns into
 * a message). The worker runs one GPU job at a time: decodes go before queued encodes, so a
 * click is answered while other frames wait for their embedding.
 *
 * Everything here is structured-cloneable (Files travel by reference; pixel and mask buffers are
 * transferred, not copied).
 */

/** Which pipeline segments a click: SAM 2 alone, or RP-SAM2 (shift block, then SAM 2). */
export type Method = 'sam2' | 'rpsam2';

/** A click on pixel (x, y) (column, row; integers, as SAM 2 expects), positive (1) or negative (0). */
export interface PromptPoint {
  x: number;
  y: number;
  label: 0 | 1;
}

/** A box [x0, y0] – [x1, y1] in pixels (x0 ≤ x1, y0 ≤ y1). */
export interface PromptBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Everything that prompts one object's mask. */
export interface ObjectPrompt {
  points: PromptPoint[];
  box: PromptBox | null;
}

/** A frame's pixels: 8-bit RGBA, row-major (what `getImageData` gives). */
export interface FramePixels {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** Where the SAM 2 model comes from. */
export type ModelSpec =
  /** The embedded default model: its weights URL (a bundled asset) and config text. */
  | { kind: 'default'; weightsUrl: string; configJson: string }
  /**
   * Weights chosen by the user (SAM 2 `.pt` or `.safetensors`), with an optional config in the
   * official layout (JSON) or an official size name; neither = inferred from the weights.
   */
  | { kind: 'file'; weights: Blob; name: string; configJson: string | null; configName: string | null; size: string | null };

/** Where a shift block comes from. */
export type ShiftBlockSource =
  /** The shift block shipped with `@rpsam2/rpsam2` for the default model: its weights URL (a bundled asset). */
  | { kind: 'default'; url: string }
  /** A file chosen by the user: a training checkpoint or a plain shift-block safetensors file. */
  | { kind: 'file'; file: Blob; name: string };

/**
 * Precomputed image features (a feature cache made by `bench embed`): a folder served over HTTP,
 * the cache's files among dropped or picked files (with their relative paths), or none (detach).
 */
export type FeaturesSource = { kind: 'url'; url: string } | { kind: 'files'; files: Blob[]; paths: string[] } | { kind: 'none' };

/** Attached precomputed features. */
export interface FeaturesInfo {
  /** Where they are (a URL or a folder path). */
  label: string;
  /** Frames in the cache's index. */
  frames: number;
  /** The SAM 2 that made them ('<config> (<weights label>)'). */
  model: string;
  /** Why they do not fit the loaded model (they are not used then), or null. */
  mismatch: string | null;
}

/** Storage type of the weights on the GPU. */
export type WeightDType = 'f32' | 'f16';

/** Requests, by type. */
export type Request =
  | { type: 'init' }
  | { type: 'load-model'; spec: ModelSpec; dtype: WeightDType }
  | { type: 'load-shift-block'; source: ShiftBlockSource }
  | { type: 'attach-features'; source: FeaturesSource }
  /** `cacheKey`: the frame's key in the attached feature cache (its file name without extension). */
  | { type: 'encode'; frameId: string; pixels: FramePixels; priority: 'now' | 'background'; cacheKey?: string }
  | { type: 'decode'; frameId: string; prompt: ObjectPrompt; method: Method }
  | { type: 'forget'; frameId: string | null };

export type RequestType = Request['type'];

/** What the worker knows about its device. */
export interface InitReply {
  adapter: string;
  /** Largest storage buffer binding (bytes). */
  maxBinding: number;
  shaderF16: boolean;
}

/** The loaded SAM 2 model. */
export interface ModelInfo {
  /** Shown to the user: 'default (sam2.1-synthetic)' or the file name. */
  label: string;
  /** Config name. */
  config: string;
  imageSize: number;
  parameters: number;
  format: string;
  dtype: WeightDType;
  ms: number;
  /** Set when a loaded shift block did not fit the new model and was dropped. */
  droppedShiftBlock: string | null;
}

/** The loaded shift block. */
export interface ShiftBlockInfo {
  label: string;
  parameters: number;
  layers: number;
  dModel: number;
  /** 'best', 'last', or 'weights' for a plain shift-block file. */
  kind: string;
  /** Training epoch of a checkpoint, when known. */
  epoch: number | null;
  /**
   * The shipped default block: the only SAM 2 model it fits (the default model's name); it is
   * dropped when another model is loaded, whatever its shapes. Null for a user's file (checked by shape).
   */
  defaultFor: string | null;
}

/** An encoded frame. */
export interface EncodeReply {
  frameId: string;
  /** Encoder time; 0 when the embedding was cached already. */
  ms: number;
  cached: boolean;
  /** Frames whose embeddings were dropped to stay within the cache budget. */
  evicted: string[];
  /** Bytes of all cached embeddings. */
  cacheBytes: number;
  /** Where the embedding came from: the image encoder, the attached precomputed features, or this session's cache. */
  source: 'encoder' | 'precomputed' | 'session';
  /** Why the attached precomputed features were not used for this frame although they list it (null otherwise). */
  featuresNote: string | null;
}

/** A decoded prompt. */
export interface DecodeReply {
  frameId: string;
  method: Method;
  width: number;
  height: number;
  /** 0/1 per pixel, row-major at the frame's size. */
  mask: Uint8Array;
  /** Predicted IoU of the chosen mask. */
  iou: number;
  /** Index of the chosen output (0 for single-mask output). */
  maskIndex: number;
  /** Positive clicks after the shift block (same order as the prompt's positive points), null for SAM 2. */
  refined: [number, number][] | null;
  ms: number;
}

/** Maps a request type to its reply. */
export interface Replies {
  init: InitReply;
  'load-model': ModelInfo;
  'load-shift-block': ShiftBlockInfo;
  'attach-features': FeaturesInfo | null;
  encode: EncodeReply;
  decode: DecodeReply;
  forget: { cacheBytes: number };
}

/** Progress of a long request. */
export interface Progress {
  stage: 'download' | 'weights' | 'queued' | 'encode';
  /** Done so far / total (bytes, tensors, ms); total 0 = unknown. */
  done: number;
  total: number;
  /** One line for the status bar. */
  text: string;
  frameId?: string;
}

/** Why a request failed; the page picks its message and remedy by code. */
export type ErrorCode =
  | 'no-webgpu'
  | 'device-lost'
  | 'weights-mismatch'
  | 'shift-block-mismatch'
  | 'bad-file'
  | 'no-model'
  | 'no-shift-block'
  | 'not-encoded'
  | 'bad-request'
  | 'internal';

export interface WorkerError {
  code: ErrorCode;
  message: string;
}

/** Something the worker reports without being asked (id 0). */
export type WorkerEvent = { type: 'device-lost'; message: string };

/** Page → worker. */
export interface RequestEnvelope {
  id: number;
  request: Request;
}

/** Worker → page. */
export type ResponseEnvelope =
  | { id: number; kind: 'progress'; progress: Progress }
  | { id: number; kind: 'ok'; reply: Replies[RequestType] }
  | { id: number; kind: 'error'; error: WorkerError }
  | { id: 0; kind: 'event'; event: WorkerEvent };

const REQUEST_TYPES: readonly RequestType[] = ['init', 'load-model', 'load-shift-block', 'attach-features', 'encode', 'decode', 'forget'];

/**
 * Why a message is not a valid request envelope, or null when it is. The worker checks every
 * message (a bad one is answered with a 'bad-request' error, never half-executed).
 */
export function requestProblem(msg: unknown): string | null {
  if (!isRecord(msg)) return 'a request must be an object {id, request}';
  if (!Number.isInteger(msg.id)) return `request id must be an integer, got ${JSON.stringify(msg.id)}`;
  const r = msg.request;
  if (!isRecord(r) || typeof r.type !== 'string') return 'request.type is missing';
  if (!REQUEST_TYPES.includes(r.type as RequestType)) return `unknown request type '${r.type}' (expected one of ${REQUEST_TYPES.join(', ')})`;
  switch (r.type as RequestType) {
    case 'load-model': {
      const s = r.spec;
      if (!isRecord(s)) return 'load-model: spec is missing';
      if (r.dtype !== 'f32' && r.dtype !== 'f16') return `load-model: dtype must be 'f32' or 'f16', got ${JSON.stringify(r.dtype)}`;
      if (s.kind === 'default') return typeof s.weightsUrl === 'string' && typeof s.configJson === 'string' ? null : 'load-model: the default model needs weightsUrl and configJson';
      if (s.kind === 'file') return isBlob(s.weights) && typeof s.name === 'string' ? null : 'load-model: a weights file (Blob) and its name are needed';
      return `load-model: unknown spec kind ${JSON.stringify(s.kind)}`;
    }
    case 'load-shift-block': {
      const s = r.source;
      if (!isRecord(s)) return 'load-shift-block: source is missing';
      if (s.kind === 'default') return typeof s.url === 'string' && s.url !== '' ? null : 'load-shift-block: the default shift block needs its url';
      if (s.kind === 'file') return isBlob(s.file) && typeof s.name === 'string' ? null : 'load-shift-block: a file (Blob) and its name are needed';
      return `load-shift-block: unknown source kind ${JSON.stringify(s.kind)}`;
    }
    case 'attach-features': {
      const s = r.source;
      if (!isRecord(s)) return 'attach-features: source is missing';
      if (s.kind === 'none') return null;
      if (s.kind === 'url') return typeof s.url === 'string' && s.url !== '' ? null : 'attach-features: a url is needed';
      if (s.kind === 'files') {
        return Array.isArray(s.files) && Array.isArray(s.paths) && s.files.length === s.paths.length && s.files.every(isBlob) && s.paths.every((x) => typeof x === 'string')
          ? null
          : 'attach-features: files (Blobs) and their paths, one each, are needed';
      }
      return `attach-features: unknown source kind ${JSON.stringify(s.kind)}`;
    }
    case 'encode': {
      if (typeof r.frameId !== 'string' || r.frameId === '') return 'encode: frameId must be a non-empty string';
      if (r.cacheKey !== undefined && typeof r.cacheKey !== 'string') return 'encode: cacheKey must be a string';
      if (r.priority !== 'now' && r.priority !== 'background') return `encode: priority must be 'now' or 'background', got ${JSON.stringify(r.priority)}`;
      return pixelsProblem(r.pixels);
    }
    case 'decode': {
      if (typeof r.frameId !== 'string' || r.frameId === '') return 'decode: frameId must be a non-empty string';
      if (r.method !== 'sam2' && r.method !== 'rpsam2') return `decode: method must be 'sam2' or 'rpsam2', got ${JSON.stringify(r.method)}`;
      return promptProblem(r.prompt);
    }
    case 'forget':
      return r.frameId === null || typeof r.frameId === 'string' ? null : 'forget: frameId must be a string or null';
    case 'init':
      return null;
  }
}

/** Why pixels are not a valid RGBA frame, or null. */
export function pixelsProblem(p: unknown): string | null {
  if (!isRecord(p)) return 'pixels are missing';
  const { width, height, data } = p;
  if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) < 1 || (height as number) < 1) {
    return `pixels: width and height must be positive integers, got ${JSON.stringify(width)}×${JSON.stringify(height)}`;
  }
  if (!(data instanceof Uint8ClampedArray) && !(data instanceof Uint8Array)) return 'pixels: data must be a Uint8ClampedArray (RGBA)';
  const want = (width as number) * (height as number) * 4;
  if (data.length !== want) return `pixels: ${data.length} bytes for ${width}×${height} RGBA (expected ${want})`;
  return null;
}

/** Why a prompt is not usable, or null: at least one click or a box, integer pixel clicks, labels 0/1, an ordered box. */
export function promptProblem(p: unknown): string | null {
  if (!isRecord(p) || !Array.isArray(p.points)) return 'prompt: points must be an array';
  for (let i = 0; i < p.points.length; i++) {
    const q = p.points[i];
    if (!isRecord(q) || !Number.isInteger(q.x) || !Number.isInteger(q.y)) return `prompt: point ${i} must have integer pixel x and y, got ${JSON.stringify(q)}`;
    if (q.label !== 0 && q.label !== 1) return `prompt: point ${i} label must be 0 (negative) or 1 (positive), got ${JSON.stringify(q.label)}`;
  }
  const b = p.box;
  if (b !== null && b !== undefined) {
    if (!isRecord(b) || ![b.x0, b.y0, b.x1, b.y1].every((v) => typeof v === 'number' && Number.isFinite(v))) return 'prompt: box must have numeric x0, y0, x1, y1';
    if ((b.x0 as number) > (b.x1 as number) || (b.y0 as number) > (b.y1 as number)) return `prompt: box corners must be ordered (x0 ≤ x1, y0 ≤ y1), got ${JSON.stringify(b)}`;
  }
  if (p.points.length === 0 && !b) return 'prompt: give at least one click or a box';
  return null;
}

/**
 * Why the shipped default shift block cannot serve `model`, and how to get one that can (the
 * engine's error and the page's banner when a model swap drops it).
 */
export function defaultShiftBlockMismatch(defaultFor: string, model: string): string {
  return (
    `The shipped shift block fits only the default SAM 2 model (${defaultFor}), not ${model}. ` +
    `RP-SAM2 with ${model} needs a shift block trained for it: \`pnpm bench table1 --data <dir> --weights <ckpt>\` or \`rpsam2 train\` makes one; load it with “Shift block…”. SAM 2 alone works meanwhile.`
  );
}

/** The buffers of a request that can be transferred instead of copied. */
export function transferablesOf(request: Request): Transferable[] {
  return request.type === 'encode' ? [request.pixels.data.buffer] : [];
}

/** The buffers of a reply that can be transferred. */
export function replyTransferables(reply: Replies[RequestType]): Transferable[] {
  return reply !== null && 'mask' in reply && reply.mask instanceof Uint8Array ? [reply.mask.buffer] : [];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isBlob(v: unknown): boolean {
  return typeof Blob !== 'undefined' && v instanceof Blob;
}
