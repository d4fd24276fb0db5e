/**
 * Text widths for layout (margins, legends, label collisions) without a font engine: the advance
 * widths of DejaVu Sans and DejaVu Sans Bold, the first font of the figures' font stack (`FONT_FAMILY`), read from
 * the fonts' `hmtx` tables (per mille of the em, printable ASCII 32–126). The fallback fonts
 * (Liberation Sans, Arial) are narrower, so the estimate errs on the roomy side there.
 */

// Advance widths in 1/1000 em of the characters ' ' (32) … '~' (126).
const REGULAR = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
  1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
  500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];
const BOLD = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580,
  1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500,
  500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
];

// Non-ASCII characters the figures use: ± × − (838 in both weights), – (500), and a wide default.
const MATH_SIGNS = new Set([0xb1, 0xd7, 0x2212]);

/** Width in px of `text` set in DejaVu Sans at `size` px (no kerning: DejaVu's is tiny). */
export function textWidth(text: string, size: number, weight: 'normal' | 'bold' = 'normal'): number {
  const table = weight === 'bold' ? BOLD : REGULAR;
  let units = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c >= 32 && c <= 126) units += table[c - 32];
    else if (MATH_SIGNS.has(c)) units += 838;
    else if (c === 0x2013) units += 500;
    else units += weight === 'bold' ? 760 : 700;
  }
  return (units / 1000) * size;
}
