/**
 * Colours and marker shapes for the series of bar and line plots: the Okabe–Ito palette
 * (distinguishable by colour-blind readers), ordered so that the first two series (typically
 * SAM 2 and RP-SAM2) are blue and vermillion, the pair that survives greyscale printing best;
 * yellow, weak on white, comes last. Markers differ per series too, so lines stay apart in print.
 */

const SERIES_COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#f0e442'];

/** The colour of the i-th series (cycling after 8). */
export function seriesColor(i: number): string {
  return SERIES_COLORS[((i % SERIES_COLORS.length) + SERIES_COLORS.length) % SERIES_COLORS.length];
}

/** Marker shapes, in series order (cycling). */
export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down';

const MARKERS: MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'triangle-down'];

/** The marker shape of the i-th series. */
export function seriesMarker(i: number): MarkerShape {
  return MARKERS[((i % MARKERS.length) + MARKERS.length) % MARKERS.length];
}
