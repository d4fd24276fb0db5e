/**
 * The queue's pieces that need no Redis and no GPU (issue #23): flag and file parsing, job
 * validation (a malformed job is refused naming the field), deterministic job ids, the frame
 * list, and the index merge.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CACHE_FORMAT, CACHE_VERSION, type CacheEntry, type CacheSettings } from '@rpsam2/rpsam2';
import { mergeCacheIndex } from '../src/queue/cache-index.js';
import { parseClicks } from '../src/queue/clicks-file.js';
import { parseEmbedArgs } from '../src/queue/embed-command.js';
import { listFrames } from '../src/queue/frames.js';
import { validateEmbedJob, validateLabelJob, validateTable1ShardJob } from '../src/queue/job-validation.js';
import { embedJobId, labelJobId, type EmbedJobData } from '../src/queue/jobs.js';
import { parseLabelArgs } from '../src/queue/label-command.js';
import { splitQueueFlags } from '../src/queue/table1-shards.js';
import { parseWorkerArgs } from '../src/queue/worker-command.js';
import { put, useTempDir } from './helpers/fixtures.js';

const tmp = useTempDir('queue-units');

const embedJob: EmbedJobData = {
  cacheDir: '/shared/cache',
  datasetName: 'frames',
  model: { weights: '', config: '', dtype: 'f32' },
  featureDtype: 'f32',
  gridStep: 8,
  epsilon: 0.005,
  frame: { id: 'frame_001', path: '/shared/frames/frame_001.png' },
};

describe('queue: flags and files', () => {
  it('bench embed / worker / label flags: usage errors name the flag', () => {
    expect(() => parseEmbedArgs(['frames/'])).toThrow(/--cache <dir> is required/);
    expect(() => parseEmbedArgs(['--cache', 'c'])).toThrow(/no frames given/);
    expect(() => parseEmbedArgs(['f/', '--cache', 'c', '--queue', 'redis://h:1/x'])).toThrow(/database 'x'/);
    expect(() => parseEmbedArgs(['f/', '--cache', 'c', '--attempts', '2'])).toThrow(/--attempts needs --queue/);
    expect(() => parseEmbedArgs(['f/', '--cache', 'c', '--queue', 'redis://h', '--queue-name', 'a:b'])).toThrow(/--queue-name 'a:b'/);
    expect(parseEmbedArgs(['f/', '--cache', 'c', '--queue', 'redis://h:7000/3', '--attempts', '5'])).toMatchObject({ queue: { host: 'h', port: 7000, db: 3 }, queueName: 'rpsam2', attempts: 5 });
    expect(() => parseWorkerArgs([])).toThrow(/--queue redis:\/\/host:port is required/);
    expect(() => parseWorkerArgs(['--queue', 'redis://h', '--stall-timeout', '0'])).toThrow(/--stall-timeout needs an integer ≥ 1/);
    expect(() => parseLabelArgs(['f/', '--clicks', 'c.json', '--out', 'o', '--weights', 'w.pt'])).toThrow(/need a shift block trained for them \(--shift-block <checkpoint>\), or --shift-block none/);
    expect(parseLabelArgs(['f/', '--clicks', 'c.json', '--out', 'o', '--weights', 'w.pt', '--shift-block', 'none'])).toMatchObject({ shiftBlock: 'none' });
  });

  it('bench table1: --queue and --queue-name are taken out of the run flags (also next to --resume)', () => {
    const r = splitQueueFlags(['--resume', 'runs/x', '--queue', 'redis://127.0.0.1:6379', '--queue-name', 'q1']);
    expect(r.argv).toEqual(['--resume', 'runs/x']);
    expect(r.queue).toMatchObject({ queueName: 'q1', target: { host: '127.0.0.1', port: 6379 } });
    expect(splitQueueFlags(['--seeds', '2']).queue).toBeUndefined();
    expect(() => splitQueueFlags(['--queue-name', 'q'])).toThrow(/--queue-name needs --queue/);
    expect(() => splitQueueFlags(['--queue'])).toThrow(/--queue needs a value/);
  });

  it('a clicks file: one list of [x, y] per frame id; bad entries named', () => {
    expect([...parseClicks('{"a": [[1, 2], [3.5, 4]]}', 'c.json')]).toEqual([['a', [[1, 2], [3.5, 4]]]]);
    expect(() => parseClicks('[1]', 'c.json')).toThrow(/c\.json: expected an object/);
    expect(() => parseClicks('{"a": []}', 'c.json')).toThrow(/"a" must be a non-empty list/);
    expect(() => parseClicks('{"a": [[1, "2"]]}', 'c.json')).toThrow(/"a" click 0 must be \[x, y\]/);
    expect(() => parseClicks('{"a": [[-1, 2]]}', 'c.json')).toThrow(/click 0 must be \[x, y\] with finite numbers ≥ 0/);
    expect(() => parseClicks('{', 'c.json')).toThrow(/c\.json: not valid JSON/);
  });

  it('frames: folders expand sorted; missing paths, empty folders, duplicate ids and bad names are refused', async () => {
    const d = join(tmp.dir, 'frames');
    for (const n of ['b.png', 'a.jpg', 'notes.txt']) await put(join(d, n), 'x');
    await put(join(tmp.dir, 'other', 'a.png'), 'x');
    await mkdir(join(tmp.dir, 'empty'), { recursive: true });
    expect((await listFrames([d])).map((f) => f.id)).toEqual(['a', 'b']);
    await expect(listFrames([join(tmp.dir, 'missing')])).rejects.toThrow(/missing: not found/);
    await expect(listFrames([join(tmp.dir, 'empty')])).rejects.toThrow(/no PNG or JPEG files in this folder/);
    await expect(listFrames([d, join(tmp.dir, 'other')])).rejects.toThrow(/two frames have the id 'a'/);
    await expect(listFrames([join(d, 'notes.txt')])).rejects.toThrow(/not a \.png, \.jpg or \.jpeg file/);
    await put(join(tmp.dir, 'bad', 'a b.png'), 'x');
    await expect(listFrames([join(tmp.dir, 'bad')])).rejects.toThrow(/'a b' cannot be a cache key/);
  });
});

describe('queue: jobs', () => {
  it('job ids are deterministic, differ with the inputs and hold no ":"', () => {
    expect(embedJobId(embedJob)).toBe(embedJobId({ ...embedJob }));
    expect(embedJobId(embedJob)).not.toBe(embedJobId({ ...embedJob, featureDtype: 'f16' }));
    expect(embedJobId(embedJob)).toMatch(/^embed-[0-9a-f]{16}-frame_001$/);
    const label = { outDir: '/o', cacheDir: '', model: embedJob.model, shiftBlock: '', frame: embedJob.frame, clicks: [[1, 2]] as [number, number][] };
    expect(labelJobId(label)).not.toBe(labelJobId({ ...label, clicks: [[1, 3]] }));
    expect(labelJobId(label)).not.toContain(':');
  });

  it('malformed jobs are refused naming the field (unrecoverable: never retried)', () => {
    expect(validateEmbedJob(embedJob)).toBe(embedJob);
    const bad = (over: object) => () => validateEmbedJob({ ...embedJob, ...over });
    expect(bad({ cacheDir: 'relative' })).toThrow(/malformed embed job: cacheDir must be an absolute path, got "relative"/);
    expect(bad({ frame: { id: '../x', path: '/a.png' } })).toThrow(/frame\.id must be/);
    expect(bad({ model: { weights: '', config: '', dtype: 'f64' } })).toThrow(/model\.dtype must be 'f32' or 'f16'/);
    expect(bad({ gridStep: 0 })).toThrow(/gridStep must be a positive integer/);
    let name = '';
    try {
      validateEmbedJob(null);
    } catch (e) {
      name = (e as Error).name;
    }
    expect(name).toBe('UnrecoverableError');
    const label = { outDir: '/o', cacheDir: '', model: embedJob.model, shiftBlock: 'none', frame: embedJob.frame, clicks: [[1, 2]] };
    expect(validateLabelJob(label)).toBe(label);
    expect(() => validateLabelJob({ ...label, clicks: [[1, Number.NaN]] })).toThrow(/malformed label job: clicks must be/);
    expect(() => validateLabelJob({ ...label, shiftBlock: 'rel/ckpt' })).toThrow(/shiftBlock must be an absolute path, '' \(the default\) or 'none'/);
    const shard = {
      runDir: '/r',
      dataRoot: '/r/data',
      split: 'test',
      evalDir: '/r/cache/e',
      group: { name: 'SAM 2', sam2: embedJob.model, methods: [{ kind: 'sam2', name: 'SAM 2' }] },
      frameIds: ['case/f.png'],
      seeds: [0, 1],
      clickOffset: 0,
      shardFile: '/r/shards/x.jsonl',
    };
    expect(validateTable1ShardJob(shard)).toBe(shard);
    expect(() => validateTable1ShardJob({ ...shard, group: { ...shard.group, methods: [{ kind: 'rpsam2', name: 'RP', checkpoint: 'rel', heads: 8 }] } })).toThrow(/malformed table1-shard job: group\.methods\[0\]/);
    expect(() => validateTable1ShardJob({ ...shard, seeds: [] })).toThrow(/seeds must be a non-empty list/);
  });
});

describe('queue: the cache index merge', () => {
  const settings: CacheSettings = { sam2: { config: 'c', imageSize: 256, dim: 32, weights: 'w sha256:0' }, dtype: 'f32', gridStep: 8, epsilon: 0.005 };
  const entry = (id: string): CacheEntry => ({ id, file: `images/${id}.safetensors`, height: 4, width: 6, objects: [] });

  it('keeps indexed entries first, adds new ones once in order, drops entries without a file, refuses other settings', async () => {
    const dir = join(tmp.dir, 'cache');
    for (const id of ['a', 'b', 'c']) await put(join(dir, 'images', `${id}.safetensors`), 'x');
    await writeFile(join(dir, 'index.json'), JSON.stringify({ format: CACHE_FORMAT, version: CACHE_VERSION, dataset: 'old', ...settings, entries: [entry('b'), entry('gone')] }));
    const idx = await mergeCacheIndex(dir, settings, 'new', [entry('a'), entry('b'), entry('c'), entry('a')]);
    expect(idx.entries.map((e) => e.id)).toEqual(['b', 'a', 'c']);
    expect(idx.dataset).toBe('old');
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).entries.map((e: CacheEntry) => e.id)).toEqual(['b', 'a', 'c']);
    await expect(mergeCacheIndex(dir, { ...settings, dtype: 'f16' }, 'new', [])).rejects.toThrow(/was built with other settings:\n {2}dtype: cache has "f32", this run uses "f16"/);
  });
});
