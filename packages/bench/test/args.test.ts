import { describe, expect, it } from 'vitest';
import { nonNegativeIntFlag, parseArgs, positiveIntFlag, probabilityFlag } from '../src/args.js';

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

describe('nonNegativeIntFlag and probabilityFlag', () => {
  it('accept their ranges and name the flag otherwise', () => {
    expect([nonNegativeIntFlag('seed', '0'), nonNegativeIntFlag('seed', '7')]).toEqual([0, 7]);
    for (const bad of ['-1', '2.5', 'x']) expect(() => nonNegativeIntFlag('seed', bad)).toThrow(`--seed needs a non-negative integer, got '${bad}'`);
    expect([probabilityFlag('boxes', '0'), probabilityFlag('boxes', '0.35'), probabilityFlag('boxes', '1')]).toEqual([0, 0.35, 1]);
    for (const bad of ['-0.1', '1.5', 'x', ' ']) expect(() => probabilityFlag('boxes', bad)).toThrow(`--boxes needs a probability in [0, 1], got '${bad}'`);
  });

  it('serve train-sam2', async () => {
    const { parseTrainSam2Args } = await import('../src/sam2-training/command.js');
    expect(() => parseTrainSam2Args(['--eval-every', '1.5'])).toThrow("--eval-every needs a non-negative integer, got '1.5'");
    expect(() => parseTrainSam2Args(['--stage-steps', '1,2.5,3,4'])).toThrow("--stage-steps needs a non-negative integer, got '2.5'");
  });
});
