/**
 * A lost WebGPU device (driver reset, GPU process crash, `device.destroy()` from elsewhere).
 *
 * Everything on a lost device is gone: buffers, pipelines, the weights and features they held.
 * The backend observes `device.lost` and, from then on, fails every dispatch, upload and readback
 * with {@link DeviceLostError} at once (readbacks already waiting reject too, instead of hanging).
 * The fix is always the same: a new device (`init()` / `initNode()` make one when the current
 * backend is lost) and everything loaded again — the predictors do both in `recover()`, a training
 * run continues from its last checkpoint with `--resume`.
 */

/** Thrown by every backend call once its device is lost; the message says what happened and the fix. */
export class DeviceLostError extends Error {
  /** Lets callers tell it apart without `instanceof` (which a second bundled copy would break). */
  readonly code = 'ERR_DEVICE_LOST';

  constructor(
    /** WebGPU's reason: 'destroyed' (destroy() was called on the device) or 'unknown'. */
    readonly reason: string,
    /** The driver's message. */
    readonly detail: string,
  ) {
    super(
      `The GPU device was lost (${reason}${detail ? `: ${detail}` : ''}); everything on it (weights, image features, optimizer state) is gone. ` +
        'Re-create the device (init() / initNode() make a new one) and load the model again: ' +
        'a predictor does both with `await predictor.recover()`, a training run continues from its last checkpoint with `--resume`.',
    );
    this.name = 'DeviceLostError';
  }
}

/** Whether `e` is a {@link DeviceLostError} (by its code, so a second bundled copy counts too). */
export function isDeviceLost(e: unknown): e is DeviceLostError {
  return (e as { code?: unknown } | null)?.code === 'ERR_DEVICE_LOST';
}

/**
 * Whether the device that holds any of these tensors (e.g. a model's parameters:
 * `model.namedParams().map(([, s]) => s.value)`) was lost: what was made before a device loss
 * cannot be used any more and must be loaded again. False for no tensors; null entries (slots
 * never loaded) are skipped.
 */
export function tensorsLost(tensors: Iterable<{ readonly store: { readonly backend: { readonly isLost: boolean } } } | null | undefined>): boolean {
  for (const t of tensors) if (t?.store.backend.isLost) return true;
  return false;
}
