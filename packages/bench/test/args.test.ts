import { describe, expect, it } from 'vitest';
import { parseArgs, positiveIntFlag } from '../src/args.js';

describe('positiveIntFlag', () => {
  it('accepts positive integers and names the flag otherwise', () => {
    expect(positiveIntFlag('steps', '3')).toBe(3);
    for (const bad of ['0', '-1', '2.5', 'x', '']) expect(() => positiveIntFlag('steps', bad)).toThrow(`--steps needs a positive integer, got '${bad}'`);
  });

  it('serves --repeat of the shared flags', () => {
    expect(parseArgs(['--repeat', '4', 'a']).repeat).toBe(4);
    expect(() => parseArgs(['--repeat', '0'])).toThrow("--repeat needs a positive integer, got '0'");
  });
});
