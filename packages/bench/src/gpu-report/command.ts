/**
 * `bench gpu-report <parts-dir> [--out <dir>]`: reads the parts that `scripts/gpu-report.sh run`
 * left in <parts-dir> (see report.ts), writes `gpu-report.json` and `gpu-report.md` to --out
 * (default: <parts-dir>) and prints the markdown. Exits 0 once both files are written, whatever
 * the parts' outcomes (they are in the report); 2 when the folder holds no parts.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { ensureOutputDir } from '@rpsam2/tensor/node';
import { join } from 'node:path';
import type { CommandArgs } from '../args.js';
import { buildGpuReport, formatGpuReportMarkdown, parsePartStatus, parseSystemText, type PartInput } from './report.js';

export const GPU_REPORT_USAGE = 'gpu-report <parts-dir> [--out <dir>]';

export interface GpuReportArgs extends CommandArgs {
  partsDir: string;
  out: string;
}

/** Parses `<parts-dir> [--out <dir>]`; throws naming the problem. */
export function parseGpuReportArgs(argv: readonly string[]): GpuReportArgs {
  let out: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') {
      out = argv[++i];
      if (out === undefined) throw new Error('--out needs a folder');
    } else if (argv[i].startsWith('--')) throw new Error(`unknown flag ${argv[i]}`);
    else rest.push(argv[i]);
  }
  if (rest.length !== 1) throw new Error('needs exactly one <parts-dir> (the folder scripts/gpu-report.sh run wrote its parts to)');
  return { json: false, quick: false, rest, partsDir: rest[0], out: out ?? rest[0] };
}

/** Reads every part (`<name>.status` plus its `.json` and `.log`) in `dir`. */
export function readParts(dir: string): PartInput[] {
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.status'))
    .map((f) => {
      const name = f.slice(0, -'.status'.length);
      return { name, status: parsePartStatus(read(f), join(dir, f)), stdout: read(`${name}.json`), log: read(`${name}.log`) };
    });
}

/** Runs `bench gpu-report`. */
export async function gpuReportCommand(commandArgs: CommandArgs): Promise<number> {
  const args = commandArgs as GpuReportArgs;
  if (!existsSync(args.partsDir)) {
    console.error(`bench gpu-report: ${args.partsDir} does not exist (run \`bash scripts/gpu-report.sh run\` first)`);
    return 2;
  }
  const parts = readParts(args.partsDir);
  if (!parts.length) {
    console.error(`bench gpu-report: no <name>.status files in ${args.partsDir} (is it the folder scripts/gpu-report.sh run wrote its parts to?)`);
    return 2;
  }
  const systemFile = join(args.partsDir, 'system.txt');
  const report = buildGpuReport(parts, existsSync(systemFile) ? parseSystemText(readFileSync(systemFile, 'utf8')) : {});
  const md = formatGpuReportMarkdown(report);
  await ensureOutputDir(args.out);
  await writeFile(join(args.out, 'gpu-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(args.out, 'gpu-report.md'), md);
  process.stdout.write(md);
  console.error(`bench gpu-report: wrote ${join(args.out, 'gpu-report.json')} and gpu-report.md`);
  return 0;
}
