/**
 * The synthetic surgical generator: cataract-surgery-like frames (eye anatomy, the 10
 * Cataract-1k instrument classes as distinct procedural shapes, highlights, occlusion, blur,
 * noise), written in Cataract-1k's layout so that the same loader reads real and synthetic data;
 * or, as a second domain, through another microscope's look in CaDIS's layout (`bench ood`).
 */
export { SyntheticRenderer, renderSyntheticFrame, objectMask, SYNTHETIC_CLASSES, type FrameOptions, type SyntheticFrame, type SyntheticObject } from './frame.js';
export { generateSyntheticDataset, syntheticFrameOptions, frameClasses, SYNTHETIC_VERSION, type SyntheticDatasetOptions, type SyntheticDatasetSummary, type SyntheticDomain } from './dataset.js';
export { DEFAULT_LOOK, CADIS_LOOK, type FrameLook } from './look.js';
export { SYNTHETIC_TO_CADIS_RAW, cadisClassOf, cadisLabelMap } from './cadis-layout.js';
export { traceMask, labelComponents4, isConnected4, type TracedPolygon } from './trace.js';
export { INSTRUMENT_BUILDERS, type InstrumentPose, type InstrumentBuilder } from './instruments.js';
