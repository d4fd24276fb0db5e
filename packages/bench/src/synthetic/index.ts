/**
 * The synthetic surgical generator: cataract-surgery-like frames (eye anatomy, the 10
 * Cataract-1k instrument classes as distinct procedural shapes, highlights, occlusion, blur,
 * noise), written in Cataract-1k's layout so that the same loader reads real and synthetic data.
 */
export { SyntheticRenderer, renderSyntheticFrame, objectMask, SYNTHETIC_CLASSES, type FrameOptions, type SyntheticFrame, type SyntheticObject } from './frame.js';
export { generateSyntheticDataset, syntheticFrameOptions, frameClasses, SYNTHETIC_VERSION, type SyntheticDatasetOptions, type SyntheticDatasetSummary } from './dataset.js';
export { traceMask, labelComponents4, isConnected4, type TracedPolygon } from './trace.js';
export { INSTRUMENT_BUILDERS, type InstrumentPose, type InstrumentBuilder } from './instruments.js';
