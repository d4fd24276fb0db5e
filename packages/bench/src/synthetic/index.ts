/**
 * The synthetic surgical datasets: cataract-surgery-like frames (eye anatomy, the 10
 * Cataract-1k instrument classes as distinct procedural shapes, highlights, occlusion, blur,
 * noise), written in Cataract-1k's layout so that the same loader reads real and synthetic data;
 * or, as a second domain, through another microscope's look in CaDIS's layout (`bench ood`).
 * The frame renderer and the mask tracer live in `@rpsam2/data` (the studio renders its
 * synthetic frames with them); re-exported here.
 */
export {
  SyntheticRenderer, renderSyntheticFrame, objectMask, SYNTHETIC_CLASSES, DEFAULT_LOOK, CADIS_LOOK,
  traceMask, labelComponents4, isConnected4, INSTRUMENT_BUILDERS,
  type FrameOptions, type SyntheticFrame, type SyntheticObject, type FrameLook, type TracedPolygon, type InstrumentPose, type InstrumentBuilder,
} from '@rpsam2/data';
export { generateSyntheticDataset, syntheticFrameOptions, frameClasses, SYNTHETIC_VERSION, type SyntheticDatasetOptions, type SyntheticDatasetSummary, type SyntheticDomain } from './dataset.js';
export { SYNTHETIC_TO_CADIS_RAW, cadisClassOf, cadisLabelMap } from './cadis-layout.js';
