/**
 * The current backend. `init()` acquires a device once; every op runs on it.
 */
import { Backend } from './backend/backend.js';
import { acquireDevice, type DeviceOptions } from './device/gpu-device.js';

let current: Backend | null = null;
let pending: Promise<Backend> | null = null;
/** The options of the last init(), so that a call without any (e.g. a predictor's `recover()`) gets the same kind of device. */
let lastOptions: DeviceOptions = {};

/**
 * Acquires a WebGPU device and makes it the library's backend. Calling it again returns the same
 * backend until {@link shutdown} — or until its device is lost (`backend.isLost`): then it
 * acquires a new device (with the previous call's options when given none) and makes that the
 * backend. Tensors made on the lost device stay unusable (dispose them); load again what you need.
 */
export async function init(options: DeviceOptions = {}): Promise<Backend> {
  if (current && !current.isDestroyed && !current.isLost) return current;
  if (Object.keys(options).length) lastOptions = options;
  else options = lastOptions;
  pending ??= acquireDevice(options).then(({ device, info }) => {
    current = new Backend(device, info, options.wait);
    return current;
  });
  try {
    return await pending;
  } finally {
    pending = null;
  }
}

/** The backend ops run on; throws if {@link init} has not completed. */
export function getBackend(): Backend {
  if (!current || current.isDestroyed) {
    throw new Error('@rpsam2/tensor is not initialised: await init() (or initNode() in Node) before using tensors');
  }
  return current;
}

/** Destroys the device. Tensors made before become unusable. */
export function shutdown(): void {
  current?.destroy();
  current = null;
}
