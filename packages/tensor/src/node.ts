/**
 * Node entry: Dawn's WebGPU (the `webgpu` package) and file access. Import from
 * `@rpsam2/tensor/node`; the core (`@rpsam2/tensor`) never imports Node modules.
 */
import { create, globals } from 'webgpu';
import { init } from './runtime.js';
import type { Backend } from './backend/backend.js';
import type { DeviceOptions } from './device/gpu-device.js';

let gpu: GPU | null = null;

/** Dawn's GPU object (created once; installs the WebGPU globals such as GPUBufferUsage). */
export function createNodeGPU(): GPU {
  if (!gpu) {
    Object.assign(globalThis, globals);
    gpu = create([]) as GPU;
  }
  return gpu;
}

/** `init()` on Dawn. */
export async function initNode(options: Omit<DeviceOptions, 'gpu'> = {}): Promise<Backend> {
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  return init({ ...options, gpu: createNodeGPU() });
}

export * from './io/node-file.js';
