/**
 * The microscope "look" of a synthetic domain: what the camera and the lamp do to a frame after
 * the scene is drawn — colour cast and gain, uneven illumination, vignetting, the lamp's corneal
 * reflections, defocus blur, sensor noise and saturation. The default look is the one the default
 * SAM 2 and the default shift block were trained on; {@link CADIS_LOOK} is another microscope
 * (CaDIS-like: warm yellow cast, a brighter field with a lamp gradient, more and larger
 * reflections, blurrier (as compressed video), washed-out colours), the out-of-distribution domain of
 * `bench ood`.
 *
 * Ranges are [low, high] of a uniform draw per frame. Features that the default look does not have
 * (illumination gradient, desaturation) draw nothing when off, so default frames stay bit-identical.
 */

/** How a domain's camera and lamp render a frame. */
export interface FrameLook {
  /** Per-channel (R, G, B) multiplier ranges: the colour cast. */
  cast: readonly [readonly [number, number], readonly [number, number], readonly [number, number]];
  /** Overall gain range. */
  gain: readonly [number, number];
  /** Passes of the 3×3 box blur (inclusive range): the defocus. */
  blurPasses: readonly [number, number];
  /** Sensor noise σ range (8-bit units). */
  noise: readonly [number, number];
  /** Darkening of the corners of the microscope field (0 none, 1 black). */
  vignette: number;
  /** The lamp's corneal reflections: how many (inclusive range) and their size at 768 px height. */
  highlights: { count: readonly [number, number]; size: readonly [number, number] };
  /** Strength of a linear lamp gradient across the frame (0: even lighting). */
  illumination: number;
  /** Colour saturation (1: unchanged; below 1 washes colours out towards grey). */
  saturation: number;
}

/** The default domain's look (the values the generator always used). */
export const DEFAULT_LOOK: FrameLook = {
  cast: [
    [0.93, 1.07],
    [0.95, 1.05],
    [0.9, 1.08],
  ],
  gain: [0.9, 1.1],
  blurPasses: [1, 2],
  noise: [1.5, 5],
  vignette: 0.75,
  highlights: { count: [1, 4], size: [4, 14] },
  illumination: 0,
  saturation: 1,
};

/** Another microscope: the out-of-distribution look of the synthetic CaDIS-layout domain. */
export const CADIS_LOOK: FrameLook = {
  cast: [
    [1.04, 1.14],
    [0.98, 1.06],
    [0.68, 0.82],
  ],
  gain: [1.0, 1.2],
  blurPasses: [2, 4],
  noise: [1.5, 4],
  vignette: 0.45,
  highlights: { count: [3, 8], size: [8, 24] },
  illumination: 0.35,
  saturation: 0.75,
};
