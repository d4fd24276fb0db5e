/**
 * Node entry: Dawn's WebGPU (the `webgpu` package) and file access. Import from
 * `@rpsam2/tensor/node`; the core (`@rpsam2/tensor`) never imports Node modules.
 */
import { init } from './runtime.js';
import type { Backend } from './backend/backend.js';
import type { DeviceOptions } from './device/gpu-device.js';
import { napWhileWaiting } from './device/nap-wait.js';

export { napWhileWaiting };

/** The install command named when Dawn's binding is missing. */
const INSTALL_WEBGPU = 'npm install webgpu';

/**
 * Dawn's binding, loaded when this module is (top-level await keeps `createNodeGPU` synchronous).
 * `webgpu` is an optional peer dependency, so that browser bundles never pull Dawn: a failed
 * load is kept and reported by `createNodeGPU`, not at import, since this entry's file helpers
 * work without it.
 */
const dawn: typeof import('webgpu') | Error = await import('webgpu').catch((e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  const missing = err?.code === 'ERR_MODULE_NOT_FOUND' && /'webgpu'/.test(err.message);
  return new Error(
    missing
      ? `@rpsam2/tensor/node needs Dawn's WebGPU binding, the 'webgpu' package, which is not installed: ${INSTALL_WEBGPU}`
      : `@rpsam2/tensor/node: Dawn's WebGPU binding (the 'webgpu' package) failed to load (${err?.message ?? String(e)}); reinstall it: ${INSTALL_WEBGPU}`,
    { cause: e },
  );
});

let gpu: GPU | null = null;

/**
 * Dawn's GPU object (created once; installs the WebGPU globals such as GPUBufferUsage). Throws,
 * naming the install command, when the optional peer dependency `webgpu` is missing.
 */
export function createNodeGPU(): GPU {
  if (!gpu) {
    if (dawn instanceof Error) throw dawn;
    const { create, globals } = dawn;
    Object.assign(globalThis, globals);
    // Full-resolution timestamps for the dispatch profiler (Dawn rounds them to ~65 µs by default,
    // a fingerprinting guard that matters in browsers, not here).
    gpu = create(['disable-dawn-features=timestamp_quantization']) as GPU;
  }
  return gpu;
}

/**
 * `init()` on Dawn. GPU waits nap between event-loop turns ({@link napWhileWaiting}) unless
 * `options.wait` says otherwise: Dawn's binding busy-polls while a wait is pending, which on a
 * CPU adapter slows the GPU work itself.
 */
export async function initNode(options: Omit<DeviceOptions, 'gpu'> = {}): Promise<Backend> {
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  return init({ wait: napWhileWaiting, ...options, gpu: createNodeGPU() });
}

export * from './io/node-file.js';

import { open as openFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { saveTensors, type SaveTensorsOptions } from './io/safetensors-write.js';
import type { Tensor } from './tensor/tensor.js';

/**
 * Writes `bytes` to `path` atomically: into a temporary file in the same directory, flushed to
 * disk, then renamed over `path`. An interrupted or failed write leaves any existing file intact
 * (and removes the temporary file when it can).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fh: Awaited<ReturnType<typeof openFile>> | null = null;
  try {
    fh = await openFile(tmp, 'wx');
    let done = 0;
    while (done < bytes.byteLength) done += (await fh.write(bytes, done, bytes.byteLength - done)).bytesWritten;
    await fh.sync();
    await fh.close();
    fh = null;
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new Error(`${path}: could not write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

/** Reads GPU tensors back and writes them to a safetensors file atomically (see `saveTensors`). */
export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
  options?: SaveTensorsOptions,
): Promise<void> {
  await writeFileAtomic(path, await saveTensors(tensors, metadata, options));
}
export * from './io/cli-errors.js';
export * from './io/dir-lock.js';
