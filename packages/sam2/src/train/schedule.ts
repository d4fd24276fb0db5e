/** Learning-rate schedule of the SAM 2 trainer: linear warm-up, then cosine decay to a floor. */

export interface LrSchedule {
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up from lr/100 to lr. */
  warmupSteps: number;
  /** Step at which the decay reaches `minLr` (the run's length). */
  totalSteps: number;
  /** Floor of the decay. */
  minLr: number;
}

/** The learning rate for optimizer step `step` (0-based). */
export function learningRateAt(step: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return s.lr * (0.01 + (0.99 * (step + 1)) / s.warmupSteps);
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const t = Math.min(1, (step - s.warmupSteps) / span);
  return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * t));
}
