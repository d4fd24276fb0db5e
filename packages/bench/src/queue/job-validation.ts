/**
 * Checks the data of a job read from the queue before a worker acts on it: anything could have
 * put it there (another build of this project, a hand-made job), and a malformed job must fail
 * at once with a message naming the field, not deep inside the encoder — and never be retried.
 */
import { isAbsolute } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import type { EmbedJobData, LabelJobData, Table1ShardJobData } from './jobs.js';

const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Throws an `UnrecoverableError` naming the field (declared with its type so that calls narrow). */
type Fail = (field: string, what: string, value: unknown) => never;

function failIn(kind: string): Fail {
  return (field, what, value) => {
    throw new UnrecoverableError(`malformed ${kind} job: ${field} must be ${what}, got ${JSON.stringify(value)?.slice(0, 200)}`);
  };
}

const fail: Fail = failIn('embed');

function checkModel(m: unknown, f: Fail): void {
  const s = m as Partial<EmbedJobData['model']> | null;
  if (!s || typeof s !== 'object') f('model', 'an object { weights, config, dtype }', s);
  if (typeof s.weights !== 'string' || (s.weights !== '' && !isAbsolute(s.weights))) f('model.weights', "an absolute path or '' (the embedded default model)", s.weights);
  if (typeof s.config !== 'string') f('model.config', 'a string', s.config);
  if (s.dtype !== 'f32' && s.dtype !== 'f16') f('model.dtype', "'f32' or 'f16'", s.dtype);
}

function checkFrame(fr: unknown, f: Fail): void {
  const s = fr as Partial<EmbedJobData['frame']> | null;
  if (!s || typeof s !== 'object') f('frame', 'an object { id, path }', s);
  if (typeof s.id !== 'string' || !ID_RE.test(s.id)) f('frame.id', "letters, digits, '_', '-' or '.'", s.id);
  if (typeof s.path !== 'string' || !isAbsolute(s.path)) f('frame.path', 'an absolute path', s.path);
}

/** The job's data as a {@link LabelJobData}, or an `UnrecoverableError` naming the bad field. */
export function validateLabelJob(data: unknown): LabelJobData {
  const f: Fail = failIn('label');
  const d = data as Partial<LabelJobData> | null;
  if (!d || typeof d !== 'object') f('data', 'an object', d);
  if (typeof d.outDir !== 'string' || !isAbsolute(d.outDir)) f('outDir', 'an absolute path', d.outDir);
  if (typeof d.cacheDir !== 'string' || (d.cacheDir !== '' && !isAbsolute(d.cacheDir))) f('cacheDir', "an absolute path or ''", d.cacheDir);
  checkModel(d.model, f);
  if (typeof d.shiftBlock !== 'string' || (d.shiftBlock !== '' && d.shiftBlock !== 'none' && !isAbsolute(d.shiftBlock))) f('shiftBlock', "an absolute path, '' (the default) or 'none'", d.shiftBlock);
  checkFrame(d.frame, f);
  if (!Array.isArray(d.clicks) || d.clicks.length === 0 || !d.clicks.every((c) => Array.isArray(c) && c.length === 2 && c.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
    f('clicks', 'a non-empty list of [x, y] with finite numbers', d.clicks);
  }
  return d as LabelJobData;
}

/** The job's data as an {@link EmbedJobData}, or an `UnrecoverableError` naming the bad field. */
export function validateEmbedJob(data: unknown): EmbedJobData {
  const d = data as Partial<EmbedJobData> | null;
  if (!d || typeof d !== 'object') fail('data', 'an object', d);
  if (typeof d.cacheDir !== 'string' || !isAbsolute(d.cacheDir)) fail('cacheDir', 'an absolute path', d.cacheDir);
  if (typeof d.datasetName !== 'string') fail('datasetName', 'a string', d.datasetName);
  checkModel(d.model, fail);
  if (d.featureDtype !== 'f32' && d.featureDtype !== 'f16') fail('featureDtype', "'f32' or 'f16'", d.featureDtype);
  if (!Number.isInteger(d.gridStep) || d.gridStep! < 1) fail('gridStep', 'a positive integer', d.gridStep);
  if (typeof d.epsilon !== 'number' || !(d.epsilon >= 0)) fail('epsilon', 'a number ≥ 0', d.epsilon);
  checkFrame(d.frame, fail);
  return d as EmbedJobData;
}

/** The job's data as a {@link Table1ShardJobData}, or an `UnrecoverableError` naming the bad field. */
export function validateTable1ShardJob(data: unknown): Table1ShardJobData {
  const f: Fail = failIn('table1-shard');
  const d = data as Partial<Table1ShardJobData> | null;
  if (!d || typeof d !== 'object') f('data', 'an object', d);
  for (const k of ['runDir', 'dataRoot', 'evalDir', 'shardFile'] as const) if (typeof d[k] !== 'string' || !isAbsolute(d[k])) f(k, 'an absolute path', d[k]);
  if (typeof d.split !== 'string') f('split', 'a string', d.split);
  const g = d.group;
  if (!g || typeof g !== 'object' || typeof g.name !== 'string' || !Array.isArray(g.methods) || g.methods.length === 0) f('group', 'an object { name, sam2, methods: [...] }', g);
  checkModel(g.sam2, f);
  g.methods.forEach((m, i) => {
    if (!m || typeof m.name !== 'string' || (m.kind !== 'sam2' && m.kind !== 'rpsam2')) f(`group.methods[${i}]`, "{ kind: 'sam2' | 'rpsam2', name }", m);
    if (m.kind === 'rpsam2' && (typeof m.checkpoint !== 'string' || (m.checkpoint !== '' && !isAbsolute(m.checkpoint)) || !Number.isInteger(m.heads))) f(`group.methods[${i}]`, "an rpsam2 method with an absolute checkpoint (or '') and integer heads", m);
  });
  if (!Array.isArray(d.frameIds) || d.frameIds.length === 0 || !d.frameIds.every((x) => typeof x === 'string')) f('frameIds', 'a non-empty list of frame ids', d.frameIds);
  if (!Array.isArray(d.seeds) || d.seeds.length === 0 || !d.seeds.every((x) => Number.isInteger(x))) f('seeds', 'a non-empty list of integers', d.seeds);
  if (typeof d.clickOffset !== 'number' || !Number.isFinite(d.clickOffset)) f('clickOffset', 'a finite number', d.clickOffset);
  return d as Table1ShardJobData;
}
