/**
 * Figures as PNG: the Dice-over-click-position heatmap (SAM 2 and RP-SAM2 side by side, the
 * paper's Fig. 1/4), grouped bar plots with error bars, line plots with ±std bands, training
 * curves. Each figure is an SVG document built here (`*Svg` functions, which also return where
 * things were drawn) and rasterised by resvg (`render*` functions, PNG bytes, deterministic).
 */
export { clickGrid, clickGridWithSpacing, MIN_GRID_POINTS, type ClickGridResult } from './click-grid.js';
export {
  renderClickHeatmap,
  clickHeatmapSvg,
  type ClickHeatmapOptions,
  type ClickHeatmapFigure,
  type HeatmapPanel,
  type HeatmapPanelGeometry,
  type HeatmapDot,
} from './heatmap.js';
export { renderBarPlot, barPlotSvg, type BarPlotOptions, type BarPlotFigure, type BarGeometry } from './bar-plot.js';
export { renderLinePlot, linePlotSvg, renderTrainingCurve, trainingCurveSvg, ema, type LinePlotOptions, type TrainingCurveOptions, type LineFigure } from './line-plot.js';
export { viridis, viridisHex, rgbHex, type Rgb } from './colormap.js';
export { niceTicks, niceDomain, niceStep, logTicks, formatTick, formatLogTick, type Ticks } from './ticks.js';
export { rasterizeSvg, DEFAULT_SCALE, type RasterOptions } from './rasterize.js';
export type { SvgFigure } from './svg.js';
export { objectCrop, type CropBox } from './crop.js';
export { writeDemoFigures } from './demo.js';
