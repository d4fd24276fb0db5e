/**
 * Building blocks for models on this library, after PyTorch's `torch.nn`: {@link Module} (a tree
 * of named parameter slots with state-dict names), the generic layers {@link Linear} and
 * {@link LayerNorm}, and seeded CPU initialisers in the spirit of PyTorch's defaults.
 */
export { Module, ParamSlot } from './module.js';
export { Linear } from './linear.js';
export { LayerNorm } from './layer-norm.js';
export { uniformInit, truncNormalInit, linearDefaultBound, xavierBound, logit } from './init.js';
