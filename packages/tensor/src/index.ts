/**
 * @rpsam2/tensor — a minimal WebGPU tensor library: WGSL kernels, reverse-mode autodiff, a
 * buffer pool, safetensors I/O and `nn` building blocks (Module, Linear, LayerNorm, seeded
 * init). Start with `await init()` (browser) or `initNode()` from `@rpsam2/tensor/node`.
 */
export { init, getBackend, shutdown } from './runtime.js';
export { acquireDevice, NoAdapterError, type DeviceInfo, type DeviceOptions } from './device/gpu-device.js';
export { awaitPromise, type GpuWait } from './device/gpu-wait.js';
export { DeviceLostError, isDeviceLost, tensorsLost } from './device/device-lost.js';
export { Backend, type Dispatch, type Kernel, type BufferRange } from './backend/backend.js';
export type { DispatchProfiler, TimedBatch } from './backend/dispatch-profiler.js';
export type { GradNode, BackwardRule, GradTarget } from './autograd/grad-node.js';
export type { MatmulActivation, MatmulTile, RegisterTile, SubgroupTile } from './kernels/matmul-tiled.js';
export type { FusedActivation } from './kernels/unary.js';
export { BufferPool, bucketSize, type PoolStats } from './backend/buffer-pool.js';
export { startProfile, stopProfile, profile, profileScope, isProfiling } from './profile/profile.js';
export {
  formatProfile,
  groupProfile,
  type ProfileReport,
  type ProfileEntry,
  type ProfileGrouping,
  type TransferCount,
  type FormatProfileOptions,
} from './profile/report.js';
export { Tensor, Storage } from './tensor/tensor.js';
export type { DType } from './tensor/dtype.js';
export * from './tensor/shape.js';
export { f16BitsToF32, f32ToF16Bits } from './tensor/half.js';
export { tidy, keep } from './scope.js';
export { SeededRandom, permutation, mixSeed, splitmix32, xorshift32 } from './random.js';
export { noGrad, isGradEnabled } from './autograd/grad-mode.js';
export { backward, type BackwardOptions } from './autograd/backward.js';
export { record } from './autograd/record.js';
export { GRADIENT_OPS } from './autograd/gradient-ops.js';
export { Params } from './kernels/params.js';
export * from './ops/index.js';
export { SafetensorsFile, toF32, DTYPE_BYTES, type SafetensorsEntry, type SafetensorsDType } from './io/safetensors.js';
export { bytesSource, blobSource, type ByteSource } from './io/byte-source.js';
export * from './optim/index.js';
export * from './nn/index.js';
export {
  serializeSafetensors,
  saveTensors,
  safetensorsLayout,
  f32ToBf16Bits,
  bf16BitsToF32,
  type SafetensorsWriteDType,
  type SafetensorsTensorData,
  type NamedSafetensorsTensor,
  type SaveTensorsOptions,
  type SafetensorsLayout,
  type SafetensorsLayoutEntry,
  type SafetensorsLayoutSpec,
} from './io/safetensors-write.js';
export { TorchCheckpoint, openTensorFile, type TorchTensorEntry, type TensorFileReader, type TorchCheckpointOptions } from './io/torch-checkpoint.js';
export { ZipArchive, crc32, type ZipEntry } from './io/zip.js';
export { unpickle, UnpicklingError, PickleGlobal, isPickleTuple, type UnpickleOptions, type PickleGlobalHandler } from './io/pickle.js';
/**
 * The verification harness lives in `@rpsam2/tensor/testing`; these names stay here for the
 * packages that import them from the root.
 * @deprecated import them from `@rpsam2/tensor/testing`.
 */
export {
  GoldenChecker,
  CheckTally,
  maxAbsError,
  relL2Error,
  type CheckResult,
  type CheckReport,
  type OpVectorsRun,
} from './testing.js';
