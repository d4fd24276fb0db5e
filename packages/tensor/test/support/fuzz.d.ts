/**
 * Types of the shared fuzzing harness (fuzz.js: plain JavaScript so the tests of every package
 * can import it without pulling a file outside their TypeScript rootDir).
 */
import type fc from 'fast-check';

/** The seed of this process's fuzz runs: FUZZ_SEED, else one drawn at start (and printed). */
export declare const FUZZ_SEED: number;
/** `runs` scaled by FUZZ_RUNS / 1000 when set (FUZZ_RUNS=10000 runs ten times as many). */
export declare function fuzzRuns(runs: number): number;
/**
 * One outcome: `run` returns (then `check` may inspect the result) or throws an Error whose
 * message contains `label` (or matches it); either way within `maxMs` (default 1000; the lesser of wall time and the process's CPU time).
 */
export declare function expectTypedOutcome<T>(label: string | RegExp, run: () => T | Promise<T>, options?: { maxMs?: number; check?: (r: T) => void }): Promise<'ok' | 'error'>;
/** Runs an async property `runs` times with the process seed; prints seed, counts and time. */
export declare function fuzz<T>(name: string, arb: fc.Arbitrary<T>, property: (input: T) => Promise<'ok' | 'error'>, runs: number): Promise<void>;
/** Byte-level mutations of a valid file (half of them within the first `focus` bytes). */
export declare function mutatedBytes(seed: Uint8Array, options?: { focus?: number }): fc.Arbitrary<Uint8Array>;
/** Byte mutations of a text's UTF-8. */
export declare function mutatedText(seed: string): fc.Arbitrary<string>;
