/**
 * A synthetic surgical frame to try the page without data: `@rpsam2/data`'s generator (pure
 * TypeScript, the frames the default model is trained on) rendered in the page and wrapped as a
 * PNG File, as if it had been dropped.
 */
import { renderSyntheticFrame, SYNTHETIC_CLASSES } from '@rpsam2/data';

/** Renders a frame with one to three instruments (random by `seed`) as a PNG file. */
export async function syntheticFrameFile(seed: number, width = 1024, height = 768): Promise<File> {
  const primary = SYNTHETIC_CLASSES[seed % SYNTHETIC_CLASSES.length];
  const others = SYNTHETIC_CLASSES.filter((k) => k !== primary && k !== 'LI');
  const second = others[(seed >>> 4) % others.length];
  const frame = renderSyntheticFrame({ width, height, seed, classes: seed % 3 === 0 ? [primary] : [primary, second] });
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context to draw the synthetic frame');
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[4 * i] = frame.rgb[3 * i];
    rgba[4 * i + 1] = frame.rgb[3 * i + 1];
    rgba[4 * i + 2] = frame.rgb[3 * i + 2];
    rgba[4 * i + 3] = 255;
  }
  ctx.putImageData(new ImageData(rgba, width, height), 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return new File([blob], `synthetic_${String(seed).padStart(6, '0')}.png`, { type: 'image/png' });
}
