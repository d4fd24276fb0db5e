/** Whether ops record the autodiff tape. */
let disabledDepth = 0;

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
