/**
 * Acquiring a WebGPU adapter and device.
 *
 * The core never imports Node modules: a caller in Node passes the `GPU` object made by Dawn's
 * `webgpu` package (see `@rpsam2/tensor/node`), a browser caller passes nothing and
 * `navigator.gpu` is used.
 */
import type { GpuWait } from './gpu-wait.js';

/** Options for {@link acquireDevice}. */
export interface DeviceOptions {
  /** The WebGPU entry point. Defaults to `navigator.gpu` when present. */
  gpu?: GPU;
  /** Adapter preference, passed to `requestAdapter`. */
  powerPreference?: GPUPowerPreference;
  /** Features to skip even when the adapter has them (e.g. to test the f32-only path). */
  disableFeatures?: GPUFeatureName[];
  /**
   * How the backend waits for the GPU's promises (default: a plain `await`; `initNode` passes
   * a wait that naps, since Dawn's Node binding busy-polls while one is pending).
   */
  wait?: GpuWait;
}

/** What the library knows about the device it runs on. */
export interface DeviceInfo {
  /** Adapter description (vendor, architecture, device, description) as reported. */
  adapter: { vendor: string; architecture: string; device: string; description: string };
  /** The limits the device was created with (the adapter's own maxima for the ones we raise). */
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
    maxStorageBuffersPerShaderStage: number;
    minUniformBufferOffsetAlignment: number;
  };
  /** Optional features enabled on the device. */
  features: { shaderF16: boolean; subgroups: boolean; timestampQuery: boolean };
}

/** Thrown when no WebGPU adapter can be had; the message names the fix. */
export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(
      `No WebGPU adapter: ${detail}\n` +
        "  - In Node on Linux without a GPU, install Mesa's software Vulkan driver (lavapipe): " +
        '`bash scripts/install-lavapipe.sh` (Debian bookworm needs Mesa >= 23 from bookworm-backports).\n' +
        '  - In Node, pass the GPU object from `@rpsam2/tensor/node` (createNodeGPU) or call initNode().\n' +
        '  - In a browser, use one with WebGPU enabled (Chrome/Edge 113+, or --enable-unsafe-webgpu).',
    );
    this.name = 'NoAdapterError';
  }
}

const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

/**
 * Requests an adapter and a device with the adapter's real limits (the defaults cap storage
 * bindings at 128 MiB and buffers at 256 MiB, too little for SAM 2's large activations) and the
 * optional features the library uses when present.
 */
export async function acquireDevice(options: DeviceOptions = {}): Promise<{ device: GPUDevice; info: DeviceInfo }> {
  const gpu = options.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new NoAdapterError('no WebGPU entry point (navigator.gpu is undefined and no `gpu` option was given).');
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
  } catch (e) {
    throw new NoAdapterError(`requestAdapter failed: ${(e as Error).message}`);
  }
  if (!adapter) throw new NoAdapterError('requestAdapter() returned null (no Vulkan/Metal/D3D12 driver found).');

  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const disabled = new Set(options.disableFeatures ?? []);
  const wanted: GPUFeatureName[] = (['shader-f16', 'subgroups', 'timestamp-query'] as GPUFeatureName[]).filter(
    (f) => adapter!.features.has(f) && !disabled.has(f),
  );
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: wanted });
  const ai = adapter.info ?? ({} as GPUAdapterInfo);
  const info: DeviceInfo = {
    adapter: {
      vendor: ai.vendor ?? '',
      architecture: ai.architecture ?? '',
      device: ai.device ?? '',
      description: ai.description ?? '',
    },
    limits: {
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
      minUniformBufferOffsetAlignment: device.limits.minUniformBufferOffsetAlignment,
    },
    features: {
      shaderF16: device.features.has('shader-f16'),
      subgroups: device.features.has('subgroups'),
      timestampQuery: device.features.has('timestamp-query'),
    },
  };
  return { device, info };
}
