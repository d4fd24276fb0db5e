/**
 * Shared property-based fuzzing harness (fast-check) for the readers of untrusted files, in
 * plain JavaScript with its types in fuzz.d.ts so every package's tests can import it: seeded
 * and replayable (each run prints its seed and count; `FUZZ_SEED=<n>` replays one, `FUZZ_RUNS=<n>`
 * scales the count), shrinking to a minimal failing input. The one acceptable outcome besides a
 * correct result is a *typed* error: an Error whose message names the input (its label), within
 * a time bound — never a hang, a crash, or a TypeError/RangeError from deep inside a parser.
 */
import fc from 'fast-check';

/** The seed of this process's fuzz runs: FUZZ_SEED, else one drawn now (and printed). */
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;

/** `runs` scaled by FUZZ_RUNS / 1000 when set (e.g. FUZZ_RUNS=10000 runs ten times as many). */
export function fuzzRuns(runs) {
  return process.env.FUZZ_RUNS ? Math.max(1, Math.round((runs * Number(process.env.FUZZ_RUNS)) / 1000)) : runs;
}

/**
 * Checks one outcome: `run` returns (then `check` may inspect the result) or throws an Error
 * whose message contains `label` (or matches it); either way within `maxMs`. Anything else
 * throws, which fails the property and makes fast-check shrink the input. `maxMs` bounds the
 * lesser of the call's wall time and the process's CPU time in it (default 1000 ms).
 */
export async function expectTypedOutcome(label, run, options = {}) {
  // The bound is against a blow-up in the parser: the lesser of wall time and this process's CPU
  // time, since a loaded machine (CI beside other jobs) stretches the one and GPU work on
  // lavapipe's threads the other; a blow-up stretches both.
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let outcome;
  try {
    const r = await run();
    options.check?.(r);
    outcome = 'ok';
  } catch (e) {
    if (!(e instanceof Error)) throw new Error(`threw a non-Error: ${String(e)}`);
    if (!(typeof label === 'string' ? e.message.includes(label) : label.test(e.message))) throw new Error(`untyped ${e.name}: ${e.message}`, { cause: e });
    outcome = 'error';
  }
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  const ms = Math.min(wall, (cpu.user + cpu.system) / 1000);
  if (ms > (options.maxMs ?? 1000)) throw new Error(`took ${wall.toFixed(0)} ms (${((cpu.user + cpu.system) / 1000).toFixed(0)} ms of CPU time; limit ${options.maxMs ?? 1000} ms)`);
  return outcome;
}

/**
 * Runs an async property `runs` times with the process seed and prints one line: the suite,
 * the seed, the count, how many inputs were accepted and refused, and the time.
 */
export async function fuzz(name, arb, property, runs) {
  const counts = { ok: 0, error: 0 };
  const numRuns = fuzzRuns(runs);
  const t0 = performance.now();
  await fc.assert(
    fc.asyncProperty(arb, async (input) => {
      counts[await property(input)]++;
    }),
    { seed: FUZZ_SEED, numRuns, endOnFailure: false },
  );
  const s = ((performance.now() - t0) / 1000).toFixed(2);
  console.log(`fuzz ${name}: seed ${FUZZ_SEED}, ${numRuns} inputs (${counts.ok} read, ${counts.error} refused with a typed error) in ${s} s; replay with FUZZ_SEED=${FUZZ_SEED}`);
}

/** Byte-level mutations of a valid file: flips, overwrites, insertions, deletions, truncation. */
export function mutatedBytes(seed, options = {}) {
  // Half of the edits land in the first `focus` bytes (headers, where the parsing happens).
  const focus = Math.min(options.focus ?? seed.length, seed.length);
  const position = fc.oneof(fc.nat({ max: Math.max(0, focus - 1) }), fc.nat({ max: Math.max(0, seed.length - 1) }));
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set'), at: position, value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('flip'), at: position, value: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('insert'), at: position, value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('delete'), at: position, value: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant('truncate'), at: position, value: fc.constant(0) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let b = Array.from(seed);
    for (const { kind, at, value } of edits) {
      const i = Math.min(at, b.length);
      if (kind === 'set' && i < b.length) b[i] = value;
      else if (kind === 'flip' && i < b.length) b[i] ^= 1 << value;
      else if (kind === 'insert') b.splice(i, 0, value);
      else if (kind === 'delete') b.splice(i, value);
      else if (kind === 'truncate') b = b.slice(0, i);
    }
    return Uint8Array.from(b);
  });
}

/** Text-level mutations: byte mutations of the UTF-8 (invalid sequences decode to U+FFFD). */
export function mutatedText(seed) {
  return mutatedBytes(new TextEncoder().encode(seed)).map((b) => new TextDecoder().decode(b));
}
