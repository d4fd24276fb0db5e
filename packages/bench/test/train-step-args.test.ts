/** `bench train-step`'s sizes: the default SAM 2 with the paper's loss and with the shipped recipe's. */
import { describe, expect, it } from 'vitest';
import { parseTrainStepArgs } from '../src/train-step-bench.js';

describe('bench train-step flags', () => {
  it('knows the default-model sizes and refuses unknown ones', () => {
    expect(parseTrainStepArgs([]).sizes).toEqual(['tiny256', 'paper', 'default', 'default-recipe']);
    expect(parseTrainStepArgs(['--sizes', 'default,default-recipe', '--json']).sizes).toEqual(['default', 'default-recipe']);
    expect(() => parseTrainStepArgs(['--sizes', 'huge'])).toThrow(/unknown size\(s\) huge \(expected some of tiny256, paper, default, default-recipe\)/);
  });
});
