export * from './creation.js';
export * from './unary.js';
export * from './binary.js';
export * from './where.js';
export * from './reduce.js';
export * from './reshape.js';
export * from './expand.js';
export { broadcastMap } from './broadcast-kernel.js';
