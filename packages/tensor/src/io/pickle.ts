/**
 * A restricted unpickler: it decodes the pickle virtual machine's data opcodes (protocols 0–5)
 * into plain JS values and never executes anything. Every global must be in the caller's
 * allowlist, and a global can only be "called" (REDUCE) through the handler the caller supplies;
 * anything else — an unknown global, REDUCE on a non-callable, NEWOBJ/INST/OBJ, extension codes,
 * out-of-band buffers, BUILD without a handler — is refused with an error naming it.
 *
 * Value mapping: None → null, bool → boolean, int → number (bigint beyond 2^53), float → number,
 * str → string, bytes/bytearray → Uint8Array, list → array, tuple → frozen array (see
 * `isPickleTuple`), dict → Map, set/frozenset → Set, a global → `PickleGlobal`.
 */

/** A reference to an allowed global (`module.name`); a description, never a live function. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly handler: PickleGlobalHandler,
  ) {}

  /** `module.name`. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What an allowed global may do. */
export interface PickleGlobalHandler {
  /**
   * The result of calling the global with `args` (REDUCE). Absent: the global may be referenced
   * (e.g. a storage type inside a persistent id) but calling it is refused.
   */
  call?: (args: readonly unknown[]) => unknown;
}

/** Options of `unpickle`: what the pickle may reference (globals, persistent ids, BUILD); all refused when absent. */
export interface UnpickleOptions {
  /** Name for error messages (e.g. `weights.pt/archive/data.pkl`). */
  label?: string;
  /** Allowed globals by `module.name`; everything else is refused. */
  globals?: Record<string, PickleGlobalHandler>;
  /** Resolves a persistent id (PERSID/BINPERSID); absent: persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Applies BUILD `state` to `obj` and returns the object to leave on the stack; absent: refused. */
  build?: (obj: unknown, state: unknown) => unknown;
}

/** Raised for malformed pickles and for anything the allowlist refuses. */
export class UnpicklingError extends Error {
  override name = 'UnpicklingError';
}

/** Whether `v` is a decoded tuple (tuples are frozen arrays, lists are ordinary arrays). */
export function isPickleTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

const MARK = Symbol('mark');
const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Opcode names for error messages. */
const OP_NAMES: Record<number, string> = {
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

/** A short description of a value for error messages. */
export function describePickleValue(v: unknown): string {
  if (v instanceof PickleGlobal) return `global '${v.qualifiedName}'`;
  if (v === null) return 'None';
  if (isPickleTuple(v)) return `tuple of ${v.length}`;
  if (Array.isArray(v)) return `list of ${v.length}`;
  if (v instanceof Map) return `dict of ${v.size}`;
  if (v instanceof Set) return `set of ${v.size}`;
  if (v instanceof Uint8Array) return `bytes of ${v.byteLength}`;
  if (typeof v === 'string') return `str ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return `${typeof v} ${String(v)}`;
}

/**
 * Decodes `data` as a pickle under the restrictions above and returns the top-level value.
 * Nothing in the pickle is executed; globals resolve only to the handlers in `options.globals`.
 */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  const label = options.label ?? 'pickle';
  const globals = options.globals ?? {};
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opAt = 0; // start of the current opcode, for error positions

  const fail = (msg: string, at = opAt): never => {
    throw new UnpicklingError(`${label}: ${msg} (at byte ${at})`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.byteLength) fail(`truncated pickle (needs ${n} more bytes, ${data.byteLength - pos} left)`);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const u8 = (): number => {
    need(1);
    return data[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.byteLength)) fail(`length ${v} exceeds the pickle size`);
    return Number(v);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle (unterminated text argument)');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const decodeUtf8 = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    if (marks.length === 0) fail('no MARK on the stack');
    const m = marks.pop()!;
    return stack.splice(m);
  };
  const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);
  const resolveGlobal = (module: string, name: string): PickleGlobal => {
    const key = `${module}.${name}`;
    if (!Object.prototype.hasOwnProperty.call(globals, key)) {
      const allowed = Object.keys(globals);
      fail(`refusing to load global '${key}': it is not in the allowlist (${allowed.length ? allowed.join(', ') : 'no globals allowed'})`);
    }
    return new PickleGlobal(module, name, globals[key]);
  };
  const setItems = (target: unknown, kv: unknown[]): void => {
    if (!(target instanceof Map)) return fail(`SETITEM(S) on ${describePickleValue(target)}, expected a dict`);
    if (kv.length % 2) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < kv.length; i += 2) target.set(kv[i], kv[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target) || Object.isFrozen(target)) return fail(`APPEND(S) on ${describePickleValue(target)}, expected a list`);
    for (const it of items) target.push(it);
  };
  const int = (v: bigint): number | bigint =>
    v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  const longLE = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return int(v);
  };
  const parseIntText = (s: string, what: string): number | bigint => {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[+-]?\d+$/.test(t)) fail(`${what} argument ${JSON.stringify(s)} is not an integer`);
    return int(BigInt(t));
  };
  // A handler's own error becomes a pickle error naming what it was doing; ours pass through.
  const guarded = <T>(what: () => string, run: () => T): T => {
    try {
      return run();
    } catch (e) {
      if (e instanceof UnpicklingError) throw e;
      return fail(`${what()}: ${(e as Error).message}`);
    }
  };
  const callGlobal = (callable: unknown, args: unknown): unknown => {
    if (!(callable instanceof PickleGlobal)) return fail(`refusing REDUCE on ${describePickleValue(callable)}: only allowlisted globals may be called`);
    if (!callable.handler.call) return fail(`refusing to call global '${callable.qualifiedName}': it is allowed only as a value`);
    if (!isPickleTuple(args)) return fail(`REDUCE of '${callable.qualifiedName}' with ${describePickleValue(args)}, expected a tuple of arguments`);
    return guarded(() => callable.qualifiedName, () => callable.handler.call!(args));
  };

  if (data.byteLength === 0) fail('empty pickle');
  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unsupported pickle protocol (> 5)');
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail(`STOP with ${stack.length} values and ${marks.length} marks on the stack, expected one value`);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP (of the mark itself when nothing is above it, as CPython does)
        if (marks.length > 0 && stack.length === marks[marks.length - 1]) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;

      // Scalars.
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(u32() | 0);
        break;
      case 0x8a: // LONG1
        stack.push(longLE(bytes(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = u32() | 0;
        if (n < 0) fail('LONG4 with a negative length');
        stack.push(longLE(bytes(n)));
        break;
      }
      case 0x49: {
        // INT (text); "01"/"00" are protocol-0 booleans
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : parseIntText(s, 'INT'));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(parseIntText(line(), 'LONG'));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: {
        // FLOAT (text)
        const s = line().trim();
        const v = Number(s);
        if (Number.isNaN(v) && !/^[+-]?nan$/i.test(s)) fail(`FLOAT argument ${JSON.stringify(s)} is not a number`);
        stack.push(v);
        break;
      }

      // Strings and bytes.
      case 0x58: // BINUNICODE
        stack.push(decodeUtf8(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(decodeUtf8(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(decodeUtf8(bytes(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(rawUnicodeEscape(line()));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str): decoded as text, as torch.load does
        const n = u32() | 0;
        if (n < 0) fail('BINSTRING with a negative length');
        stack.push(decodeUtf8(bytes(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(decodeUtf8(bytes(u8())));
        break;
      case 0x53: // STRING (quoted repr)
        stack.push(pythonStringLiteral(line(), (m) => fail(m)));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64()).slice());
        break;

      // Containers.
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const m = new Map();
        setItems(m, popMark());
        stack.push(m);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail(`ADDITEMS on ${describePickleValue(s)}, expected a set`);
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;

      // Memo.
      case 0x70: {
        // PUT (text index)
        const i = Number(parseIntText(line(), 'PUT'));
        memo.set(i, top());
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x67 ? Number(parseIntText(line(), 'GET')) : op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo key ${i} is not defined`);
        stack.push(memo.get(i));
        break;
      }

      // Globals, calls, persistent ids: only through the caller's handlers.
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string module or name');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(callGlobal(callable, args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = pop();
        if (!options.build) fail(`refusing BUILD on ${describePickleValue(obj)}: no state handler`);
        stack.push(guarded(() => `BUILD on ${describePickleValue(obj)}`, () => options.build!(obj, state)));
        break;
      }
      case 0x51: // BINPERSID
      case 0x50: {
        // PERSID
        const pid = op === 0x51 ? pop() : line();
        if (!options.persistentLoad) fail('refusing persistent id: no persistent_load handler');
        stack.push(guarded(() => `persistent id ${describePickleValue(pid)}`, () => options.persistentLoad!(pid)));
        break;
      }
      case 0x69: {
        // INST "module\nname\n": instantiates a class
        const module = line();
        const name = line();
        fail(`refusing INST of '${module}.${name}': creating class instances is not allowed`);
        break;
      }
      case 0x6f: {
        // OBJ: the class is the first item after the mark
        const items = popMark();
        const cls = items[0];
        fail(`refusing OBJ of ${describePickleValue(cls)}: creating class instances is not allowed`);
        break;
      }
      case 0x81: // NEWOBJ
      case 0x92: {
        // NEWOBJ_EX
        if (op === 0x92) pop();
        pop();
        const cls = pop();
        fail(`refusing ${OP_NAMES[op]} of ${describePickleValue(cls)}: creating class instances is not allowed`);
        break;
      }
      default:
        fail(
          OP_NAMES[op]
            ? `refusing opcode ${OP_NAMES[op]}: not supported by this restricted unpickler`
            : `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`,
        );
    }
  }
}

/** Decodes Python's raw-unicode-escape (protocol-0 UNICODE): \uXXXX and \UXXXXXXXX only. */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a: string | undefined, b: string | undefined) =>
    String.fromCodePoint(parseInt((a ?? b)!, 16)),
  );
}

/** Decodes a quoted Python 2 string literal (protocol-0 STRING), common escapes only. */
function pythonStringLiteral(s: string, fail: (m: string) => never): string {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) fail(`STRING argument ${JSON.stringify(s)} is not quoted`);
  const body = s.slice(1, -1);
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
  return body.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) => {
    if (e[0] === 'x' && e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (e in simple) return simple[e];
    return fail(`STRING escape \\${e} is not supported`);
  });
}
