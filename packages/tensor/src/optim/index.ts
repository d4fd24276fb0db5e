export { Optimizer, type OptimizerStateDict, type OptimizerStateInput, type ParamState } from './optimizer.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { SGD, type SGDOptions } from './sgd.js';
export { clipGradNorm, clipGradValue } from './clip.js';
