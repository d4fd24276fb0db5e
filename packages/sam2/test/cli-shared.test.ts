/** The CLI plumbing `sam2` and `rpsam2` share (`@rpsam2/sam2/cli`): every error path. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  choiceOption,
  defineCommand,
  dispatchCommand,
  exitStatusOf,
  intOption,
  isUsageError,
  numberOption,
  parseCommandArgs,
  requireFile,
  requirePath,
  runFixtureVerify,
  UsageError,
  usageErrorFromParseArgs,
  type CliIO,
  type Command,
  type FixtureVerifyProgram,
} from '../src/cli/shared.js';

const work = mkdtempSync(join(tmpdir(), 'sam2-cli-shared-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function capture(): CliIO & { outText: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), outText: () => out.join('\n'), errText: () => err.join('\n') };
}

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

/** Whatever `f` throws (fails the test when it returns). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('usage errors and exit status', () => {
  it('UsageError, parseArgs errors, an unusable or locked output folder: 2; anything else: 1', () => {
    expect(new UsageError('x').name).toBe('UsageError');
    for (const e of [new UsageError('x'), coded('x', 'ERR_PARSE_ARGS_UNKNOWN_OPTION'), coded('x', 'ERR_OUTPUT_DIR'), coded('x', 'ERR_FOLDER_LOCKED')]) {
      expect(isUsageError(e)).toBe(true);
      expect(exitStatusOf(e)).toBe(2);
    }
    for (const e of [new Error('x'), coded('x', 'ENOENT'), Object.assign(new Error('x'), { code: 42 }), 'text', null, undefined]) {
      expect(isUsageError(e)).toBe(false);
      expect(exitStatusOf(e)).toBe(1);
    }
  });

  it('a parseArgs error becomes a UsageError pointing at --help; other errors pass through', () => {
    const unknown = coded("Unknown option '--pont'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--pont\"", 'ERR_PARSE_ARGS_UNKNOWN_OPTION');
    const u = usageErrorFromParseArgs(unknown, 'sam2 predict') as Error;
    expect(u).toBeInstanceOf(UsageError);
    expect(u.message).toBe("Unknown option '--pont' (see 'sam2 predict --help')");
    const missing = usageErrorFromParseArgs(coded("Option '--out <value>' argument missing", 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'), 'x') as Error;
    expect(missing.message).toBe("Option '--out <value>' argument missing (see 'x --help')");
    const other = new Error('other');
    expect(usageErrorFromParseArgs(other, 'x')).toBe(other);
    expect(usageErrorFromParseArgs('text', 'x')).toBe('text');
  });
});

describe('parseCommandArgs', () => {
  const spec = {
    command: 'demo run',
    usage: 'usage: demo run [--name N] [--flag] [--item I]...',
    options: { name: { type: 'string' }, flag: { type: 'boolean', default: false }, item: { type: 'string', multiple: true } },
  } as const;

  it('parses values, with defaults; --help and -h print the usage on stdout and return null', () => {
    const io = capture();
    const p = parseCommandArgs(spec, ['--name', 'a', '--item', '1', '--item=2'], io)!;
    expect(p.values).toEqual({ name: 'a', flag: false, item: ['1', '2'], help: false });
    expect(p.positionals).toEqual([]);
    for (const h of ['--help', '-h']) {
      const hio = capture();
      expect(parseCommandArgs(spec, ['--name', 'a', h], hio)).toBeNull();
      expect(hio.outText()).toBe(spec.usage);
      expect(hio.errText()).toBe('');
    }
    expect(io.outText()).toBe('');
  });

  it('positionals only where allowed', () => {
    const io = capture();
    expect(parseCommandArgs({ ...spec, allowPositionals: true }, ['in', '--flag', 'out'], io)!.positionals).toEqual(['in', 'out']);
    const e = thrown(() => parseCommandArgs(spec, ['in'], io));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/^Unexpected argument 'in'.*\(see 'demo run --help'\)$/);
  });

  it('unknown options, missing values and values given to flags are usage errors naming the command', () => {
    const io = capture();
    const cases: [string[], RegExp][] = [
      [['--nmae', 'a'], /^Unknown option '--nmae' \(see 'demo run --help'\)$/],
      [['-x'], /^Unknown option '-x' \(see 'demo run --help'\)$/],
      [['--name'], /^Option '--name <value>' argument missing \(see 'demo run --help'\)$/],
      [['--flag=yes'], /^Option '--flag' does not take an argument \(see 'demo run --help'\)$/],
    ];
    for (const [args, re] of cases) {
      const e = thrown(() => parseCommandArgs(spec, args, io));
      expect(e, args.join(' ')).toBeInstanceOf(UsageError);
      expect(e.message, args.join(' ')).toMatch(re);
      expect(exitStatusOf(e)).toBe(2);
    }
  });
});

describe('defineCommand', () => {
  const spec = { command: 'demo run', usage: 'usage: demo run [--name N]', options: { name: { type: 'string' } } } as const;

  it('runs the body on the parsed arguments and returns its status', async () => {
    const io = capture();
    const seen: unknown[] = [];
    const run = defineCommand(spec, async ({ values, positionals }, bodyIO) => {
      seen.push(values.name, positionals, bodyIO === io);
      return 7;
    });
    expect(await run(['--name', 'a'], io)).toBe(7);
    expect(seen).toEqual(['a', [], true]);
  });

  it('--help prints the usage and returns 0 without running the body; a bad option rejects with a UsageError', async () => {
    let ran = false;
    const run = defineCommand(spec, async () => {
      ran = true;
      return 1;
    });
    const io = capture();
    expect(await run(['-h'], io)).toBe(0);
    expect(io.outText()).toBe(spec.usage);
    await expect(run(['--nmae', 'a'], io)).rejects.toThrow(/^Unknown option '--nmae' \(see 'demo run --help'\)$/);
    await expect(run(['--nmae', 'a'], io)).rejects.toBeInstanceOf(UsageError);
    expect(ran).toBe(false);
  });
});

describe('option values', () => {
  it('numberOption: the fallback when absent; errors name the flag, the value and the range', () => {
    expect(numberOption(undefined, 'epsilon', 0.005, { min: 0 })).toBe(0.005);
    expect(numberOption(undefined, 'epsilon')).toBeUndefined();
    expect(numberOption('0', 'epsilon', 0.005, { min: 0 })).toBe(0);
    expect(numberOption('-2.5', 'shift')).toBe(-2.5);
    expect(numberOption('1e-3', 'lr', 1, { min: 0, max: 1 })).toBe(0.001);
    const cases: [string, Parameters<typeof numberOption>[3], string][] = [
      ['x', {}, "--v 'x': expected a number"],
      ['', { min: 0 }, "--v '': expected a number ≥ 0"],
      ['  ', { min: 0 }, "--v '  ': expected a number ≥ 0"],
      ['Infinity', {}, "--v 'Infinity': expected a number"],
      ['NaN', {}, "--v 'NaN': expected a number"],
      ['-1', { min: 0 }, "--v '-1': expected a number ≥ 0"],
      ['2', { max: 1 }, "--v '2': expected a number ≤ 1"],
      ['2', { min: 0, max: 1 }, "--v '2': expected a number in [0, 1]"],
      ['1.5', { integer: true, min: 1 }, "--v '1.5': expected an integer ≥ 1"],
    ];
    for (const [text, rules, message] of cases) {
      const e = thrown(() => numberOption(text, 'v', 0, rules));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toBe(message);
    }
  });

  it('intOption: an integer ≥ min (default 1)', () => {
    expect(intOption(undefined, 'repeats', 1)).toBe(1);
    expect(intOption(undefined, 'heads')).toBeUndefined();
    expect(intOption('8', 'heads')).toBe(8);
    expect(intOption('64', 'image-size', 0, 32)).toBe(64);
    expect(thrown(() => intOption('0', 'grid-step', 8)).message).toBe("--grid-step '0': expected an integer ≥ 1");
    expect(thrown(() => intOption('2.5', 'heads')).message).toBe("--heads '2.5': expected an integer ≥ 1");
    expect(thrown(() => intOption('16', 'image-size', 0, 32)).message).toBe("--image-size '16': expected an integer ≥ 32");
  });

  it('choiceOption: one of the choices, else an error listing them', () => {
    const dtype: 'f32' | 'f16' = choiceOption('f16', 'dtype', ['f32', 'f16']);
    expect(dtype).toBe('f16');
    expect(thrown(() => choiceOption('bf16', 'dtype', ['f32', 'f16'])).message).toBe("--dtype 'bf16': expected f32 or f16");
    expect(thrown(() => choiceOption('d', 'mode', ['a', 'b', 'c'])).message).toBe("--mode 'd': expected a, b or c");
    expect(thrown(() => choiceOption('d', 'mode', ['a']))).toBeInstanceOf(UsageError);
  });
});

describe('input checks', () => {
  const file = join(work, 'in.bin');
  const folder = join(work, 'folder');
  writeFileSync(file, 'x');
  mkdirSync(folder);

  it('requireFile: a readable file, else a usage error naming the option (and the hint)', async () => {
    expect(await requireFile(file, '--weights')).toBe(file);
    await expect(requireFile(undefined, '--config', 'a JSON training config')).rejects.toThrow(/^--config is required \(a JSON training config\)$/);
    await expect(requireFile('', '--config')).rejects.toThrow(/^--config is required$/);
    await expect(requireFile(join(work, 'none'), '--weights', 'a checkpoint')).rejects.toThrow(/^--weights .*none: cannot read \(ENOENT\) — a checkpoint$/);
    await expect(requireFile(folder, '--weights')).rejects.toThrow(/^--weights .*folder: not a file$/);
    await expect(requireFile(folder, '--weights')).rejects.toBeInstanceOf(UsageError);
  });

  it.skipIf(process.getuid?.() === 0)('requireFile: an unreadable file', async () => {
    const locked = join(work, 'locked.bin');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0o000);
    await expect(requireFile(locked, '--image')).rejects.toThrow(/locked\.bin: cannot read \(EACCES\)/);
  });

  it('requirePath: a file or a folder, else a usage error', async () => {
    expect(await requirePath(folder, '--shift-block')).toBe(folder);
    expect(await requirePath(file, '--shift-block')).toBe(file);
    await expect(requirePath(undefined, 'data.cache', 'build it first')).rejects.toThrow(/^data\.cache is required \(build it first\)$/);
    await expect(requirePath(join(work, 'none'), '--shift-block', 'a checkpoint')).rejects.toThrow(/^--shift-block .*none: not found \(ENOENT\) — a checkpoint$/);
  });
});

describe('dispatchCommand', () => {
  const calls: string[][] = [];
  const commands: Record<string, Command> = {
    ok: async (args, io) => {
      calls.push(args);
      io.out('done');
      return 0;
    },
    fail: async () => 1,
    usage: async () => {
      throw new UsageError('bad --x value');
    },
    named: async () => {
      throw new UsageError('named: --x is required');
    },
    parse: async (args, io) => {
      parseCommandArgs({ command: 'prog parse', usage: 'usage', options: {} }, args, io);
      return 0;
    },
    outdir: async () => {
      throw coded('/proc/x: cannot use as an output folder', 'ERR_OUTPUT_DIR');
    },
    crash: async () => {
      throw new Error('bad file', { cause: new Error('inner') });
    },
  };
  const run = async (...argv: string[]) => {
    const io = capture();
    const code = await dispatchCommand('prog', 'usage: prog <command>', commands, argv, io);
    return { code, out: io.outText(), err: io.errText() };
  };

  it('no command: usage on stderr, 2; --help, -h, help: usage on stdout, 0', async () => {
    expect(await run()).toEqual({ code: 2, out: '', err: 'usage: prog <command>' });
    for (const h of ['--help', '-h', 'help']) expect(await run(h)).toEqual({ code: 0, out: 'usage: prog <command>', err: '' });
  });

  it('an unknown command (inherited names too) is a usage error', async () => {
    for (const name of ['nope', 'toString', '__proto__', 'constructor']) {
      const r = await run(name);
      expect(r.code, name).toBe(2);
      expect(r.err, name).toBe(`prog: unknown command '${name}'\nusage: prog <command>`);
    }
  });

  it("runs the command with the rest of the arguments (without --debug) and returns its status", async () => {
    expect(await run('ok', 'a', '--debug', '--b')).toEqual({ code: 0, out: 'done', err: '' });
    expect(calls.at(-1)).toEqual(['a', '--b']);
    expect((await run('fail')).code).toBe(1);
  });

  it('usage errors: 2, message without a stack (even with --debug), the command named once', async () => {
    expect(await run('usage')).toEqual({ code: 2, out: '', err: 'prog usage: bad --x value' });
    expect(await run('named', '--debug')).toEqual({ code: 2, out: '', err: 'prog named: --x is required' });
    const p = await run('parse', '--bogus');
    expect(p.code).toBe(2);
    expect(p.err).toBe("prog parse: Unknown option '--bogus' (see 'prog parse --help')");
    expect(await run('outdir')).toEqual({ code: 2, out: '', err: 'prog outdir: /proc/x: cannot use as an output folder' });
  });

  it('other errors: 1, the message only; the stack and causes with --debug', async () => {
    expect(await run('crash')).toEqual({ code: 1, out: '', err: 'prog crash: bad file' });
    const d = await run('crash', '--debug');
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/^prog crash: Error: bad file\n\s+at /);
    expect(d.err).toMatch(/caused by: Error: inner/);
  });
});

describe('runFixtureVerify', () => {
  const loaded: string[][] = [];
  const program = (checks: boolean[]): FixtureVerifyProgram<{ folders: string[] }> => ({
    program: 'demo-verify',
    usage: 'usage: demo-verify <dir> [<dir2>]',
    maxFolders: 2,
    load: async (folders) => {
      loaded.push(folders);
      if (folders[0] === 'missing') throw new Error('missing/meta.json: ENOENT');
      return { folders };
    },
    describe: (f) => `fixture ${f.folders.join(' + ')}`,
    verify: async (_f, add) => {
      for (const [i, passed] of checks.entries()) add({ name: `t${i}`, kind: 'exact', passed, err: passed ? 0 : 1 });
    },
  });
  const run = async (args: string[], checks: boolean[] = [true]) => {
    const io = capture();
    const code = await runFixtureVerify(program(checks), args, io);
    return { code, out: io.outText(), err: io.errText() };
  };

  it('no folder, --help or -h: the usage on stderr, 2, nothing loaded', async () => {
    for (const args of [[], ['--help'], ['-h'], ['a', '--help']]) {
      expect(await run(args), args.join(' ')).toEqual({ code: 2, out: '', err: 'usage: demo-verify <dir> [<dir2>]' });
    }
    expect(loaded).toEqual([]);
  });

  it('bad arguments and an unreadable fixture: the message and the usage, 2', async () => {
    const many = await run(['a', 'b', 'c']);
    expect(many).toEqual({ code: 2, out: '', err: 'demo-verify: expected at most 2 folders, got 3\nusage: demo-verify <dir> [<dir2>]' });
    const unknown = await run(['a', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^demo-verify: Unknown option '--bogus' \(see 'demo-verify --help'\)\nusage:/);
    expect(loaded).toEqual([]);
    const missing = await run(['missing']);
    expect(missing).toEqual({ code: 2, out: '', err: 'demo-verify: missing/meta.json: ENOENT\nusage: demo-verify <dir> [<dir2>]' });
  });

  it('one line per check and the tally; 0 when all pass, 1 when one fails', async () => {
    const ok = await run(['a', 'b'], [true, true]);
    expect(ok.code).toBe(0);
    expect(loaded.at(-1)).toEqual(['a', 'b']);
    expect(ok.out).toMatch(/^adapter: .*; fixture a \+ b\n/);
    expect(ok.out).toMatch(/PASS t0 .*\nPASS t1 /);
    expect(ok.out).toMatch(/\ntime: [\d.]+ s\n2 passed, 0 failed$/);
    const bad = await run(['a'], [true, false]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/FAIL t1 /);
    expect(bad.out).toMatch(/1 passed, 1 failed$/);
  });
});
