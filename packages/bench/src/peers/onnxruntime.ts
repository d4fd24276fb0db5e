/**
 * The peer runtime of `bench peers`: onnxruntime-node on the CPU. It is a dev dependency of the
 * bench package only (never of the library) and is imported when the command runs, so that the
 * other commands work without it. Only the few members used here are typed, so a test can pass
 * a stand-in.
 */

/** An onnxruntime tensor (outputs carry their data on the host). */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

/** An onnxruntime inference session. */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** Session options used by the bench (a subset of onnxruntime's). */
export interface OrtSessionOptions {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  executionProviders: string[];
}

/** The members of the `onnxruntime-node` module that the bench uses. */
export interface OrtModule {
  InferenceSession: { create(path: string, options: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: 'float32' | 'int32', data: Float32Array | Int32Array, dims: readonly number[]) => OrtTensor;
  env: { versions?: { node?: string; common?: string } };
}

/**
 * How the peer runs: the CPU execution provider with 2 intra-op threads (the cores of the machine
 * the project's numbers come from), one inter-op thread, every graph optimisation.
 */
export const ORT_SESSION_OPTIONS: OrtSessionOptions = {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
};

/** The fix printed when onnxruntime-node is not installed. */
export const INSTALL_PEER = 'pnpm --filter @rpsam2/bench add -D onnxruntime-node';

/** Thrown when the peer runtime cannot be loaded; its message is one line meant for the user. */
export class PeerUnavailableError extends Error {}

/** Imports the real module (kept a separate function so tests can inject another loader). */
export const importOnnxRuntime = (): Promise<unknown> => import('onnxruntime-node');

/**
 * Loads onnxruntime-node through `loader`. Throws a PeerUnavailableError whose message names the
 * install command when the package is missing, or says why its native binding did not load.
 */
export async function loadOnnxRuntime(loader: () => Promise<unknown> = importOnnxRuntime): Promise<OrtModule> {
  let mod: unknown;
  try {
    mod = await loader();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const missing = err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND' || /Cannot find (package|module) 'onnxruntime-node'/.test(String(err?.message));
    const why = missing ? 'onnxruntime-node is not installed' : `onnxruntime-node did not load (${String(err?.message ?? e).split('\n')[0]})`;
    throw new PeerUnavailableError(`${why}; install it with: ${INSTALL_PEER}`);
  }
  // A CommonJS package: its exports may sit on `default` when imported from ESM.
  const m = mod as Partial<OrtModule> & { default?: Partial<OrtModule> };
  const ort = m.InferenceSession ? m : m.default;
  if (!ort?.InferenceSession || !ort.Tensor) throw new PeerUnavailableError(`onnxruntime-node loaded but has no InferenceSession/Tensor; reinstall it with: ${INSTALL_PEER}`);
  return ort as OrtModule;
}

/** onnxruntime-node's version, e.g. `1.23.2` (`unknown` if it does not say). */
export function ortVersion(ort: OrtModule): string {
  return ort.env?.versions?.node ?? ort.env?.versions?.common ?? 'unknown';
}
