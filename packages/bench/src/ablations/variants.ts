/**
 * The paper's ablations as RP-SAM2 variants, each trained and evaluated in one run:
 * - loss components: Dice; Dice + Dist; Dice + Dist + Out (the full compound loss);
 * - clicks per object during training: 6, 8, 10 (the paper's setting), 12.
 * Each variant is a set of `rpsam2 train --set` overrides on the run's training config.
 */
import type { VariantSpec } from '../runs/experiment-config.js';

/** The loss-component variants. */
export const LOSS_VARIANTS: readonly VariantSpec[] = [
  { name: 'RP-SAM2 (Dice)', label: 'Dice', set: ['loss.useDice=true', 'loss.useDist=false', 'loss.useOut=false'] },
  { name: 'RP-SAM2 (Dice+Dist)', label: 'Dice+Dist', set: ['loss.useDice=true', 'loss.useDist=true', 'loss.useOut=false'] },
  { name: 'RP-SAM2 (Dice+Dist+Out)', label: 'Dice+Dist+Out', set: ['loss.useDice=true', 'loss.useDist=true', 'loss.useOut=true'] },
];

/** Clicks per object during training. */
export const CLICK_COUNTS: readonly number[] = [6, 8, 10, 12];

/** The clicks-per-object variants. */
export const CLICK_VARIANTS: readonly VariantSpec[] = CLICK_COUNTS.map((k) => ({ name: `RP-SAM2 (${k} clicks)`, label: `${k}-clicks`, set: [`clicksPerObject=${k}`], x: k }));

/** Fresh copies of one ablation's variants, for a run config (which its parsers may change). */
export function ablationVariants(which: 'loss' | 'clicks'): VariantSpec[] {
  return (which === 'loss' ? LOSS_VARIANTS : CLICK_VARIANTS).map((v) => ({ ...v, set: [...v.set] }));
}
