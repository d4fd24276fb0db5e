/**
 * What a run ran on, for `env.json`: the versions of the workspace packages and of the WebGPU
 * binding, Node, the OS and CPU, the WebGPU adapter and the limits the device was created with,
 * and the git commit of the checkout (with whether it had local changes), when there is one.
 */
import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { cpus, platform, release, totalmem, arch } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend } from '@rpsam2/tensor';

/** The environment record. */
export interface RunEnvironment {
  node: string;
  os: { platform: string; release: string; arch: string; cpus: number; cpuModel: string; memoryBytes: number };
  /** name → version of the packages the run used (null when not found). */
  packages: Record<string, string | null>;
  adapter: { vendor: string; architecture: string; device: string; description: string } | null;
  limits: Record<string, number> | null;
  features: Record<string, boolean> | null;
  git: { commit: string; dirty: boolean } | null;
  command: string[];
  cwd: string;
  capturedAt: string;
}

const PACKAGES = ['@rpsam2/bench', '@rpsam2/tensor', '@rpsam2/sam2', '@rpsam2/rpsam2', 'webgpu', '@resvg/resvg-js'];

/** Walks up from `start` to the package.json whose name is `name`; its version, or null. */
async function versionAbove(start: string, name: string): Promise<string | null> {
  let dir = start;
  for (;;) {
    try {
      const pj = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pj.name === name) return pj.version ?? null;
    } catch {
      // no package.json here
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The version in `<dir>/node_modules/<name>/package.json` for `dir` and its parents (Node's lookup). */
async function versionInNodeModules(start: string, name: string): Promise<string | null> {
  let dir = start;
  for (;;) {
    try {
      const pj = JSON.parse(await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
      return pj.version ?? null;
    } catch {
      // not installed here
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * A package's version, looked up like Node resolves it from this module, then from
 * `@rpsam2/tensor` (whose dependencies, e.g. the WebGPU binding, are not this package's).
 */
async function packageVersion(name: string): Promise<string | null> {
  const here = dirname(fileURLToPath(import.meta.url));
  if (name === '@rpsam2/bench') return versionAbove(here, name);
  const v = await versionInNodeModules(here, name);
  if (v !== null) return v;
  const tensorDir = await versionDir(here, '@rpsam2/tensor');
  return tensorDir ? versionInNodeModules(tensorDir, name) : null;
}

/** The folder of an installed package as seen from `start` (through node_modules links). */
async function versionDir(start: string, name: string): Promise<string | null> {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    try {
      await readFile(join(candidate, 'package.json'), 'utf8');
      return await realpath(candidate);
    } catch {
      // not here
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

function git(args: string[], cwd: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 5000 }, (err, stdout) => resolve(err ? null : stdout.trim()));
  });
}

/** The git commit of the checkout containing this module (null outside a git checkout). */
export async function gitState(): Promise<{ commit: string; dirty: boolean } | null> {
  const cwd = dirname(fileURLToPath(import.meta.url));
  const commit = await git(['rev-parse', 'HEAD'], cwd);
  if (!commit) return null;
  const status = await git(['status', '--porcelain', '--untracked-files=no'], cwd);
  return { commit, dirty: status !== null && status.length > 0 };
}

/** Captures the environment (the WebGPU backend must be initialised for the adapter fields). */
export async function captureEnvironment(): Promise<RunEnvironment> {
  let info: ReturnType<typeof getBackend>['info'] | null = null;
  try {
    info = getBackend().info;
  } catch {
    info = null;
  }
  const cpu = cpus();
  const packages: Record<string, string | null> = {};
  for (const p of PACKAGES) packages[p] = await packageVersion(p);
  return {
    node: process.version,
    os: { platform: platform(), release: release(), arch: arch(), cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', memoryBytes: totalmem() },
    packages,
    adapter: info ? { ...info.adapter } : null,
    limits: info ? { ...info.limits } : null,
    features: info ? { ...info.features } : null,
    git: await gitState(),
    command: process.argv.slice(1),
    cwd: process.cwd(),
    capturedAt: new Date().toISOString(),
  };
}

/** One line for the log: "llvmpipe (Mesa …), software". */
export function adapterLine(env: RunEnvironment): string {
  const a = env.adapter;
  if (!a) return 'no adapter';
  return `${a.description || a.device || a.vendor || 'unknown adapter'}${a.architecture ? ` (${a.architecture})` : ''}`;
}
