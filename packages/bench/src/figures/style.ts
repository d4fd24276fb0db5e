/** Sizes (px) and colours shared by every figure, so bar, line and heatmap figures match in a paper. */
export const STYLE = {
  /** Outer margin of every figure. */
  margin: 16,
  titleSize: 17,
  /** Axis labels and panel titles. */
  labelSize: 14,
  tickSize: 12,
  legendSize: 13,
  /** Length of an axis tick mark. */
  tickLength: 5,
  text: '#222222',
  axis: '#444444',
  grid: '#e3e3e3',
  /** Muted text (stats lines, notes). */
  muted: '#555555',
} as const;
