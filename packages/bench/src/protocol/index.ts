/** Pieces of the evaluation protocol: seeded random streams and the simulated user's clicks. */
export { Rng, hashKey } from '@rpsam2/data';
export { sampleClicks, type Click } from './clicks.js';
