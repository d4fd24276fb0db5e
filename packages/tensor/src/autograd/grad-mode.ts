/** Whether ops record the autodiff tape. */
let disabledDepth = 0;

/** Whether ops currently record the autodiff tape: true unless called inside {@link noGrad}. */
export function isGradEnabled(): boolean {
  return disabledDepth === 0;
}

/**
 * Runs `fn` without recording gradients (inference, frozen parts of a model, optimizer steps).
 * `fn` must be synchronous.
 */
export function noGrad<T>(fn: () => T): T {
  disabledDepth++;
  try {
    return fn();
  } finally {
    disabledDepth--;
  }
}
