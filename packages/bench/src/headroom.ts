/**
 * `bench headroom <cache-dir> [--reach 0.1] [--json]`: what a better single click could gain on a
 * feature cache's objects (built by `rpsam2 candidates` or a run's training cache), per class and
 * overall — a uniform click's Dice, the best click, the best within a shift block's reach, and the
 * fixed "towards the centroid" rule (see rpsam2's `objectHeadroom`). It bounds what training a
 * shift block can gain on that data, before any training is spent on it.
 */
import { parseArgs } from 'node:util';
import { FeatureCache, meanHeadroom, objectHeadroom, type ObjectHeadroom } from '@rpsam2/rpsam2';
import { initNode } from '@rpsam2/tensor/node';
import type { CommandArgs } from './args.js';
import { UsageError } from './runs/run-args.js';
import { processIO, type RunIO } from './runs/run-io.js';

export const HEADROOM_USAGE = 'headroom <cache-dir> [--reach 0.1] [--json]';

interface HeadroomArgs extends CommandArgs {
  cacheDir: string;
  reach: number;
}

/** Parses `headroom`'s flags. */
export function parseHeadroomArgs(argv: string[]): CommandArgs {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { reach: { type: 'string', default: '0.1' }, json: { type: 'boolean', default: false } } });
  if (positionals.length !== 1) throw new UsageError(`headroom needs one feature-cache folder (got ${positionals.length}): ${HEADROOM_USAGE}`);
  const reach = Number(values.reach);
  if (!(reach >= 0 && reach <= 1)) throw new UsageError(`--reach needs a number in [0, 1] (the shift bound per axis, normalised), got '${values.reach}'`);
  const args: HeadroomArgs = { json: values.json!, quick: false, rest: [], cacheDir: positionals[0], reach };
  return args;
}

/** One row of the headroom table: a class or 'all'. */
export type HeadroomRow = ReturnType<typeof meanHeadroom> & { className: string };

/** Per-class rows (sorted by name) and the 'all' row last, from each object's headroom. */
export function headroomRows(objects: readonly { className: string; headroom: ObjectHeadroom }[]): HeadroomRow[] {
  const byClass = new Map<string, ObjectHeadroom[]>();
  for (const o of objects) byClass.set(o.className, [...(byClass.get(o.className) ?? []), o.headroom]);
  const rows = [...byClass.keys()].sort().map((c) => ({ className: c, ...meanHeadroom(byClass.get(c)!) }));
  return [...rows, { className: 'all', ...meanHeadroom(objects.map((o) => o.headroom)) }];
}

/** The rows as a markdown table. */
export function formatHeadroom(rows: readonly HeadroomRow[], reach: number): string[] {
  const f = (x: number) => x.toFixed(3);
  return [
    `| class | objects | grid clicks | uniform click | spread | best click | best in reach (${reach}) | towards centroid (≤ ${reach}) |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.className} | ${r.objects} | ${r.clicks} | ${f(r.mean)} | ${f(r.spread)} | ${f(r.best)} | ${f(r.reachBest)} | ${f(r.towardCentroid)} |`),
  ];
}

/** Runs `bench headroom`. */
export async function headroomCommand(commandArgs: CommandArgs, io: RunIO = processIO): Promise<number> {
  const args = commandArgs as HeadroomArgs;
  await initNode();
  const cache = await FeatureCache.open(args.cacheDir);
  const objects: { className: string; headroom: ObjectHeadroom }[] = [];
  for (let i = 0; i < cache.entries.length; i++) {
    const img = await cache.load(i);
    // Only the candidate grids are needed: the features go straight back.
    img.features.imageEmbed.dispose();
    for (const t of img.features.highRes) t.dispose();
    for (const o of img.objects) {
      const headroom = objectHeadroom(o, img.origHW, args.reach);
      if (headroom) objects.push({ className: o.className, headroom });
    }
  }
  const rows = headroomRows(objects);
  if (args.json) io.out(JSON.stringify({ cache: args.cacheDir, reach: args.reach, gridStep: cache.settings.gridStep, rows }));
  else {
    io.out(`${args.cacheDir}: ${objects.length} objects, candidate grid ${cache.settings.gridStep} px; Dice of SAM 2's mask from a click at each grid point, means over objects`);
    for (const l of formatHeadroom(rows, args.reach)) io.out(l);
  }
  return 0;
}
