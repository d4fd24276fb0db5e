/**
 * The page's side of the worker protocol: one promise per request (typed by its reply),
 * progress callbacks, and errors as {@link ModelError}s carrying the worker's code.
 */
import { transferablesOf, type ErrorCode, type Progress, type Replies, type Request, type RequestEnvelope, type ResponseEnvelope, type WorkerEvent } from './protocol.js';

/** A request the worker refused or failed. */
export class ModelError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

/** What carries messages (a Worker, or a fake in tests). */
export interface MessagePort {
  postMessage(message: RequestEnvelope, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<ResponseEnvelope>) => void): void;
  addEventListener(type: 'error', listener: (ev: ErrorEvent) => void): void;
}

interface Pending {
  resolve: (reply: never) => void;
  reject: (e: ModelError) => void;
  onProgress?: (p: Progress) => void;
}

export class ModelClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly port: MessagePort,
    /** Called with what the worker reports unasked (a lost GPU device). */
    private readonly onEvent: (e: WorkerEvent) => void = () => {},
  ) {
    port.addEventListener('message', (ev) => this.receive(ev.data));
    // A crash of the worker (e.g. a syntax error in its bundle) fails every open request.
    port.addEventListener('error', (ev) => {
      const err = new ModelError('internal', `the model worker failed: ${ev.message || 'unknown error'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  /** Requests still waiting for their answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Rejects every open request (the worker is being replaced). */
  failAll(error: ModelError): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** Sends a request; resolves with its reply. Buffers in the request (frame pixels) are transferred. */
  call<R extends Request>(request: R, onProgress?: (p: Progress) => void): Promise<Replies[R['type']]> {
    const id = this.nextId++;
    return new Promise<Replies[R['type']]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: never) => void, reject, onProgress });
      this.port.postMessage({ id, request }, transferablesOf(request));
    });
  }

  private receive(msg: ResponseEnvelope): void {
    if (msg.kind === 'event') {
      this.onEvent(msg.event);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.kind === 'progress') {
      p.onProgress?.(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.kind === 'ok') p.resolve(msg.reply as never);
    else p.reject(new ModelError(msg.error.code, msg.error.message));
  }
}
