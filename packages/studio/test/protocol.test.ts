import { describe, expect, it } from 'vitest';
import { defaultShiftBlockMismatch, promptProblem, requestProblem, transferablesOf, type RequestEnvelope, type ResponseEnvelope } from '../src/worker/protocol.js';
import { ModelClient, ModelError, type MessagePort } from '../src/worker/model-client.js';

const pixels = (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) });

describe('requestProblem', () => {
  it('accepts every well-formed request type', () => {
    const ok: RequestEnvelope[] = [
      { id: 1, request: { type: 'init' } },
      { id: 2, request: { type: 'load-model', spec: { kind: 'default', weightsUrl: '/w', configJson: '{}' }, dtype: 'f32' } },
      { id: 3, request: { type: 'load-model', spec: { kind: 'file', weights: new Blob([]), name: 'w.pt', configJson: null, configName: null, size: null }, dtype: 'f16' } },
      { id: 4, request: { type: 'load-shift-block', source: { kind: 'file', file: new Blob([]), name: 'best.safetensors' } } },
      { id: 4, request: { type: 'load-shift-block', source: { kind: 'default', url: 'http://localhost/assets/weights-abc.safetensors' } } },
      { id: 5, request: { type: 'encode', frameId: 'a.png', pixels: pixels(3, 2), priority: 'now' } },
      { id: 6, request: { type: 'decode', frameId: 'a.png', prompt: { points: [{ x: 1, y: 2, label: 1 }], box: null }, method: 'rpsam2' } },
      { id: 7, request: { type: 'decode', frameId: 'a.png', prompt: { points: [], box: { x0: 0, y0: 0, x1: 2, y1: 1 } }, method: 'sam2' } },
      { id: 8, request: { type: 'forget', frameId: null } },
    ];
    for (const m of ok) expect(requestProblem(m), m.request.type).toBeNull();
  });

  it('names what is wrong with a bad request', () => {
    expect(requestProblem(null)).toMatch(/must be an object/);
    expect(requestProblem({ id: 1.5, request: { type: 'init' } })).toMatch(/id must be an integer/);
    expect(requestProblem({ id: 1, request: { type: 'explode' } })).toMatch(/unknown request type 'explode'/);
    expect(requestProblem({ id: 1, request: { type: 'load-model', spec: { kind: 'default', weightsUrl: '/w', configJson: '{}' }, dtype: 'bf16' } })).toMatch(/dtype/);
    expect(requestProblem({ id: 1, request: { type: 'encode', frameId: 'a', pixels: pixels(3, 2), priority: 'soon' } })).toMatch(/priority/);
    expect(requestProblem({ id: 1, request: { type: 'encode', frameId: 'a', pixels: { width: 3, height: 2, data: new Uint8ClampedArray(23) }, priority: 'now' } })).toMatch(/23 bytes for 3×2 RGBA \(expected 24\)/);
    expect(requestProblem({ id: 1, request: { type: 'encode', frameId: '', pixels: pixels(1, 1), priority: 'now' } })).toMatch(/frameId/);
    expect(requestProblem({ id: 1, request: { type: 'decode', frameId: 'a', prompt: { points: [], box: null }, method: 'sam2' } })).toMatch(/at least one click or a box/);
    expect(requestProblem({ id: 1, request: { type: 'decode', frameId: 'a', prompt: { points: [], box: null }, method: 'sam3' } })).toMatch(/method/);
  });

  it('checks where a shift block comes from', () => {
    const shift = (source: unknown) => requestProblem({ id: 1, request: { type: 'load-shift-block', source } });
    expect(shift(undefined)).toMatch(/load-shift-block: source is missing/);
    expect(shift({ kind: 'default' })).toMatch(/the default shift block needs its url/);
    expect(shift({ kind: 'default', url: '' })).toMatch(/needs its url/);
    expect(shift({ kind: 'file', file: 'best.safetensors', name: 'best.safetensors' })).toMatch(/a file \(Blob\) and its name are needed/);
    expect(shift({ kind: 'file', file: new Blob([]) })).toMatch(/its name/);
    expect(shift({ kind: 'url', url: '/x' })).toMatch(/unknown source kind "url"/);
    // The old flat shape (file and name beside the type) is refused, not half-read.
    expect(requestProblem({ id: 1, request: { type: 'load-shift-block', file: new Blob([]), name: 'b.safetensors' } })).toMatch(/source is missing/);
  });

  it('says what the shipped shift block fits and how to get one for other weights', () => {
    const text = defaultShiftBlockMismatch('sam2.1-synthetic', 'sam2.1_hiera_tiny.pt');
    expect(text).toMatch(/fits only the default SAM 2 model \(sam2\.1-synthetic\), not sam2\.1_hiera_tiny\.pt/);
    expect(text).toContain('pnpm bench table1 --data <dir> --weights <ckpt>');
    expect(text).toContain('rpsam2 train');
    expect(text).toContain('Shift block…');
  });

  it('checks prompts point by point', () => {
    expect(promptProblem({ points: [{ x: 1.5, y: 2, label: 1 }], box: null })).toMatch(/point 0 must have integer pixel x and y/);
    expect(promptProblem({ points: [{ x: 1, y: 2, label: 1 }, { x: 1, y: 2, label: 2 }], box: null })).toMatch(/point 1 label must be 0/);
    expect(promptProblem({ points: [], box: { x0: 5, y0: 0, x1: 2, y1: 3 } })).toMatch(/ordered/);
    expect(promptProblem({ points: [{ x: 0, y: 0, label: 0 }], box: null })).toBeNull();
  });

  it('transfers frame pixels instead of copying them', () => {
    const p = pixels(2, 2);
    expect(transferablesOf({ type: 'encode', frameId: 'a', pixels: p, priority: 'now' })).toEqual([p.data.buffer]);
    expect(transferablesOf({ type: 'init' })).toEqual([]);
  });
});

/** A port that records what the client posts and lets the test answer. */
function fakePort() {
  const listeners: { message: ((ev: MessageEvent<ResponseEnvelope>) => void)[]; error: ((ev: ErrorEvent) => void)[] } = { message: [], error: [] };
  const sent: { msg: RequestEnvelope; transfer: Transferable[] }[] = [];
  const port: MessagePort = {
    postMessage: (msg, transfer) => sent.push({ msg, transfer }),
    addEventListener: ((type: 'message' | 'error', l: never) => listeners[type].push(l)) as MessagePort['addEventListener'],
  };
  const reply = (m: ResponseEnvelope) => listeners.message.forEach((l) => l({ data: m } as MessageEvent<ResponseEnvelope>));
  const crash = (message: string) => listeners.error.forEach((l) => l({ message } as ErrorEvent));
  return { port, sent, reply, crash };
}

describe('ModelClient', () => {
  it('matches replies to requests by id, passes progress on and rejects with the worker code', async () => {
    const f = fakePort();
    const client = new ModelClient(f.port);
    const progress: string[] = [];
    const a = client.call({ type: 'init' });
    const b = client.call({ type: 'forget', frameId: 'x' }, (p) => progress.push(p.text));
    const c = client.call({ type: 'forget', frameId: null });
    expect(f.sent.map((s) => s.msg.id)).toEqual([1, 2, 3]);
    expect(client.inFlight).toBe(3);
    f.reply({ id: 2, kind: 'progress', progress: { stage: 'queued', done: 0, total: 0, text: 'waiting' } });
    f.reply({ id: 2, kind: 'ok', reply: { cacheBytes: 7 } });
    f.reply({ id: 1, kind: 'ok', reply: { adapter: 'lavapipe', maxBinding: 1, shaderF16: false } });
    f.reply({ id: 3, kind: 'error', error: { code: 'no-model', message: 'no SAM 2 model is loaded yet' } });
    f.reply({ id: 99, kind: 'ok', reply: { cacheBytes: 0 } }); // unknown ids are ignored
    await expect(a).resolves.toEqual({ adapter: 'lavapipe', maxBinding: 1, shaderF16: false });
    await expect(b).resolves.toEqual({ cacheBytes: 7 });
    const err = await c.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe('no-model');
    expect(progress).toEqual(['waiting']);
    expect(client.inFlight).toBe(0);
  });

  it('passes unasked events on and fails open requests on demand', async () => {
    const f = fakePort();
    const events: string[] = [];
    const client = new ModelClient(f.port, (e) => events.push(`${e.type}: ${e.message}`));
    const a = client.call({ type: 'init' });
    f.reply({ id: 0, kind: 'event', event: { type: 'device-lost', message: 'GPU process exited' } });
    expect(events).toEqual(['device-lost: GPU process exited']);
    expect(client.inFlight).toBe(1);
    client.failAll(new ModelError('device-lost', 'replaced'));
    await expect(a).rejects.toMatchObject({ code: 'device-lost' });
    expect(client.inFlight).toBe(0);
  });

  it('fails every open request when the worker crashes', async () => {
    const f = fakePort();
    const client = new ModelClient(f.port);
    const a = client.call({ type: 'init' });
    const b = client.call({ type: 'forget', frameId: null });
    f.crash('SyntaxError in bundle');
    for (const p of [a, b]) await expect(p).rejects.toThrow(/the model worker failed: SyntaxError in bundle/);
    expect(client.inFlight).toBe(0);
  });
});
