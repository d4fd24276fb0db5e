/**
 * Types of numeric.js (plain JavaScript so the tests of every package can import it without
 * pulling a file outside their TypeScript rootDir).
 */

/** mulberry32 from the state `seed >>> 0`: a uniform generator on [0, 1). */
export declare function mulberry32(seed: number): () => number;
/** Central differences (f(x + h eᵢ) − f(x − h eᵢ)) / 2h of a scalar function, one per element of x (h defaults to 1e-6). */
export declare function centralDiff(f: (x: number[]) => number, x: number[], h?: number): number[];
