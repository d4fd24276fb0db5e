/**
 * What travels through the queue: the job kinds, their data and results, the ids that make
 * enqueueing idempotent, and the retry policy. Every job is self-contained (absolute paths on a
 * shared folder, the model to load, the cache settings), so any worker on any machine can run it.
 */
import { createHash } from 'node:crypto';
import type { CacheEntry, CacheSettings } from '@rpsam2/rpsam2';
import type { Sam2Spec } from '../evaluation/sam2-models.js';

/** The BullMQ queue name when `--queue-name` is not given. */
export const DEFAULT_QUEUE_NAME = 'rpsam2';

/** Job names (BullMQ's `job.name`), one per kind of work a worker knows. */
export const JOB_KINDS = ['embed', 'label', 'table1-shard'] as const;
/** One of {@link JOB_KINDS}. */
export type JobKind = (typeof JOB_KINDS)[number];

/** An `embed` job: encode one frame into a feature cache (image features, no objects). */
export interface EmbedJobData {
  /** Absolute path of the feature cache folder (shared between the machines). */
  cacheDir: string;
  /** Written into the index as its dataset name. */
  datasetName: string;
  /** The SAM 2 to encode with (absolute weights path, or '' for the embedded default model). */
  model: Sam2Spec;
  /** Storage type of the features in the cache files. */
  featureDtype: 'f32' | 'f16';
  /** Cache settings that are part of the cache's identity (unused for frames without objects). */
  gridStep: number;
  epsilon: number;
  frame: { id: string; path: string };
}

/** What an `embed` job returns (stored by BullMQ, read by the producer). */
export interface EmbedJobResult {
  /** The frame's index entry (as the single-process build writes it). */
  entry: CacheEntry;
  settings: CacheSettings;
  /** 'computed': encoded by this job; 'cached': the file was there already (a no-op). */
  outcome: 'computed' | 'cached';
  /** The worker's name (host-pid unless given). */
  worker: string;
  /** Time in the handler, ms. */
  ms: number;
}

/** A `label` job: pseudo-label one frame from one positive click per object (RP-SAM2 or SAM 2). */
export interface LabelJobData {
  /** Absolute path of the output folder: `<outDir>/<frame id>.json` (shared between the machines). */
  outDir: string;
  /** A feature cache to take the frame's features from when it holds them for this model ('' = always encode). */
  cacheDir: string;
  model: Sam2Spec;
  /** The shift block: a checkpoint path, '' for the one shipped for the default SAM 2, or 'none' for SAM 2 alone. */
  shiftBlock: string;
  frame: { id: string; path: string };
  /** One positive click [x, y] per object, pixels of the original frame. */
  clicks: [number, number][];
}

/** What a `label` job returns. */
export interface LabelJobResult {
  /** The output file (absolute). */
  file: string;
  objects: number;
  /** 'computed': labelled by this job; 'cached': the same labels were there already (a no-op). */
  outcome: 'computed' | 'cached';
  /** Where the image features came from ('cache' or 'encoded'; 'none' when cached). */
  features: 'cache' | 'encoded' | 'none';
  worker: string;
  ms: number;
}

/** A method of a Table 1 shard, rebuilt by the worker in the run's column order. */
export type ShardMethodSpec = { kind: 'sam2'; name: string } | { kind: 'rpsam2'; name: string; /** Checkpoint file (absolute), or '' for the shipped default block. */ checkpoint: string; heads: number };

/**
 * A `table1-shard` job: the samples of a few evaluated frames of a Table 1 run (or of one share
 * of a `bench ood` run: the same job, the run's config.json tells the worker how to open the
 * data), for one model group (a SAM 2 and its methods), computed by the run's own evaluation loop
 * into the shard's samples file; the run merges the shards into samples.jsonl in frame order.
 */
export interface Table1ShardJobData {
  /** The run directory (absolute; its config.json — a Table 1 or an OOD run's — says how to open the data). */
  runDir: string;
  /** The dataset root (absolute). */
  dataRoot: string;
  /** The evaluated split (the frames are looked up in it by id). */
  split: string;
  /** The group's feature cache of the evaluated frames (absolute). */
  evalDir: string;
  group: { name: string; sam2: Sam2Spec; methods: ShardMethodSpec[] };
  /** The shard's frames, in the run's order. */
  frameIds: string[];
  seeds: number[];
  clickOffset: number;
  /** The shard's samples file (absolute): written whole, then renamed into place. */
  shardFile: string;
}

/** What a `table1-shard` job returns. */
export interface Table1ShardJobResult {
  samples: number;
  outcome: 'computed' | 'cached';
  /** The shard's evaluation timings (ms; summed by the run). */
  timings: { features: number; masks: number; metrics: number; methods: Record<string, { ms: number; clicks: number }> };
  worker: string;
  ms: number;
}

/** Retry policy of every job the producers add. */
export interface JobPolicy {
  /** Tries per job before it fails for good (default 3). */
  attempts: number;
  /** First retry delay, doubled per retry (ms, default 2000). */
  backoffMs: number;
}

/** 3 tries, back-off from 2 s. */
export const DEFAULT_JOB_POLICY: JobPolicy = { attempts: 3, backoffMs: 2000 };

/** BullMQ options of a job with a deterministic id (a second `add` of the same work is ignored while the first is kept). */
export function jobOptions(jobId: string, policy: JobPolicy = DEFAULT_JOB_POLICY) {
  return {
    jobId,
    attempts: policy.attempts,
    backoff: { type: 'exponential' as const, delay: policy.backoffMs },
    // Finished jobs are kept a while so that the producer can read results it missed (then evicted).
    removeOnComplete: { age: 24 * 3600, count: 100_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** A 16-hex-digit digest of a JSON value (key order as given). */
export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/**
 * The job id of an `embed` job: the kind, a digest of everything that decides the output (cache
 * folder, model, settings) and the frame id. The same work always gets the same id, so
 * re-running an interrupted producer joins the jobs still queued instead of adding copies.
 */
export function embedJobId(d: EmbedJobData): string {
  const key = digest([d.cacheDir, d.model.weights, d.model.config, d.model.dtype, d.featureDtype, d.gridStep, d.epsilon]);
  // BullMQ refuses ':' in custom ids; frame ids are letters, digits, '_', '-', '.'.
  return `embed-${key}-${d.frame.id}`;
}

/** The digest of what decides a `label` job's output (recorded in the file: a rerun with the same inputs is a no-op). */
export function labelKey(d: LabelJobData): string {
  return digest([d.model.weights, d.model.config, d.model.dtype, d.shiftBlock, d.frame.id, d.clicks]);
}

/** The job id of a `label` job (see {@link embedJobId}). */
export function labelJobId(d: LabelJobData): string {
  return `label-${digest([d.outDir, labelKey(d)])}-${d.frame.id}`;
}
