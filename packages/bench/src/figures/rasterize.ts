/**
 * SVG → PNG through resvg (a Rust SVG renderer with its own text shaping, no browser): the same
 * SVG and the same installed fonts give the same bytes. Fonts are the system's; the figures ask
 * for DejaVu Sans first and name it as the default, so text renders wherever it is installed
 * (Debian/Ubuntu: `fonts-dejavu-core`), with Liberation Sans/Arial as fallbacks.
 */
import { Resvg } from '@resvg/resvg-js';

/** Output resolution: `scale` device pixels per SVG px (2 gives print/retina-sharp figures). */
export interface RasterOptions {
  scale?: number;
}

/** Default device pixels per SVG px of every figure. */
export const DEFAULT_SCALE = 2;

/**
 * Renders an SVG document to PNG bytes (RGBA, white where the SVG paints its background) at
 * `scale` device pixels per px. Throws on an invalid scale or an SVG resvg cannot parse.
 */
export function rasterizeSvg(svg: string, options: RasterOptions = {}): Uint8Array {
  const scale = options.scale ?? DEFAULT_SCALE;
  if (!Number.isFinite(scale) || scale <= 0 || scale > 16) throw new Error(`rasterizeSvg: scale must be in (0, 16], got ${scale}`);
  let png: Uint8Array;
  try {
    const r = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: scale },
      background: '#ffffff',
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
      logLevel: 'off',
    });
    png = r.render().asPng();
  } catch (e) {
    throw new Error(`rasterizeSvg: resvg failed (${(e as Error).message})`);
  }
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
