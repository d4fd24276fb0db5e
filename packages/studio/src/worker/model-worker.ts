/**
 * The model worker: receives {@link RequestEnvelope}s, runs them on the {@link StudioEngine} one
 * GPU job at a time (decodes first, then the frame being looked at, then background encodes)
 * and answers with progress, then `ok` or `error` (see protocol.ts).
 */
import { blobSource, bytesSource } from '@rpsam2/tensor';
import { classifyError, StudioEngine, StudioError } from './engine.js';
import { JobQueue } from './job-queue.js';
import { pickedCacheFiles, urlCacheFiles } from './precomputed-features.js';
import { replyTransferables, requestProblem, type Progress, type Replies, type Request, type RequestEnvelope, type RequestType, type ResponseEnvelope } from './protocol.js';

/** The worker global, typed just as far as used (the DOM lib has no worker scope types). */
const scope = self as unknown as {
  postMessage(message: ResponseEnvelope, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<unknown>) => void) | null;
};

/** Job priorities: lower runs first. */
const PRIORITY = { decode: 0, control: 1, encodeNow: 2, encodeBackground: 3 } as const;

const engine = new StudioEngine();
const queue = new JobQueue();

function progress(id: number, p: Progress): void {
  scope.postMessage({ id, kind: 'progress', progress: p });
}

/** Fetches a URL to bytes, reporting download progress. */
async function download(id: number, url: string, what: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new StudioError('bad-file', `${what}: HTTP ${res.status} for ${url}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const parts: Uint8Array[] = [];
  let done = 0;
  let last = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    parts.push(value);
    done += value.byteLength;
    if (performance.now() - last > 100) {
      last = performance.now();
      progress(id, { stage: 'download', done, total, text: `downloading ${what}: ${(done / 2 ** 20).toFixed(1)}${total ? ` of ${(total / 2 ** 20).toFixed(1)}` : ''} MiB` });
    }
  }
  const out = new Uint8Array(done);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

async function handle(id: number, request: Request): Promise<Replies[RequestType]> {
  switch (request.type) {
    case 'init':
      return queue.push(PRIORITY.control, () => engine.init((message) => scope.postMessage({ id: 0, kind: 'event', event: { type: 'device-lost', message } })));
    case 'load-model':
      return queue.push(PRIORITY.control, async () => {
        const s = request.spec;
        if (s.kind === 'default') {
          const bytes = await download(id, s.weightsUrl, 'the default model');
          progress(id, { stage: 'weights', done: 0, total: 0, text: 'loading the default model onto the GPU' });
          return engine.loadModel({ kind: 'default', weights: bytesSource(bytes, 'default model weights.safetensors'), configJson: s.configJson }, request.dtype);
        }
        return engine.loadModel(
          { kind: 'file', weights: blobSource(s.weights, s.name), label: s.name, configJson: s.configJson, configName: s.configName, size: s.size },
          request.dtype,
          (done, total) => progress(id, { stage: 'weights', done, total, text: `loading ${s.name}: tensor ${done} of ${total}` }),
        );
      });
    case 'load-shift-block':
      return queue.push(PRIORITY.control, async () => {
        const s = request.source;
        if (s.kind === 'default') {
          const bytes = await download(id, s.url, 'the default shift block');
          return engine.loadDefaultShiftBlock(bytesSource(bytes, 'default shift block weights.safetensors'));
        }
        return engine.loadShiftBlock(blobSource(s.file, s.name), s.name);
      });
    case 'attach-features':
      return queue.push(PRIORITY.control, async () => {
        const s = request.source;
        if (s.kind === 'none') return engine.attachFeatures(null);
        if (s.kind === 'url') return engine.attachFeatures(urlCacheFiles(s.url));
        const files = pickedCacheFiles(s.files.map((file, i) => ({ file, path: s.paths[i] })));
        if (!files) throw new StudioError('bad-file', `no feature cache among ${s.files.length} file(s): a cache folder made by \`bench embed\` holds index.json and images/*.safetensors`);
        return engine.attachFeatures(files);
      });
    case 'encode': {
      const { frameId, pixels, cacheKey } = request;
      const priority = request.priority === 'now' ? PRIORITY.encodeNow : PRIORITY.encodeBackground;
      if (engine.has(frameId) && !queue.has(`encode:${frameId}`)) {
        return queue.push(PRIORITY.decode, () => engine.encode(frameId, { width: pixels.width, height: pixels.height, channels: 4, data: pixels.data }, cacheKey));
      }
      const ahead = queue.ahead(priority);
      if (ahead > 0) progress(id, { stage: 'queued', done: 0, total: 0, frameId, text: `waiting for ${ahead} job${ahead === 1 ? '' : 's'}` });
      return queue.push(
        priority,
        async () => {
          const t0 = performance.now();
          const expected = engine.expectedEncodeMs;
          const tick = () => progress(id, { stage: 'encode', done: performance.now() - t0, total: expected, frameId, text: 'encoding' });
          tick();
          const timer = setInterval(tick, 250);
          try {
            return await engine.encode(frameId, { width: pixels.width, height: pixels.height, channels: 4, data: pixels.data }, cacheKey);
          } finally {
            clearInterval(timer);
          }
        },
        `encode:${frameId}`,
      );
    }
    case 'decode':
      return queue.push(PRIORITY.decode, () => engine.decode(request.frameId, request.prompt, request.method));
    case 'forget':
      return queue.push(PRIORITY.decode, async () => {
        engine.forget(request.frameId);
        return { cacheBytes: engine.cacheBytes };
      });
  }
}

scope.onmessage = (ev) => {
  const problem = requestProblem(ev.data);
  const id = Number.isInteger((ev.data as { id?: unknown })?.id) ? (ev.data as RequestEnvelope).id : -1;
  if (problem) {
    scope.postMessage({ id, kind: 'error', error: { code: 'bad-request', message: problem } });
    return;
  }
  const { request } = ev.data as RequestEnvelope;
  handle(id, request).then(
    (reply) => scope.postMessage({ id, kind: 'ok', reply }, replyTransferables(reply)),
    (e) => {
      const error = classifyError(e);
      if (error.code === 'internal') console.error(e);
      scope.postMessage({ id, kind: 'error', error });
    },
  );
};
