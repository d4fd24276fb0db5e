/**
 * @rpsam2/tensor/testing — the verification harness: the op-vector runner behind `check-ops`
 * (`parseOpCases`, `runOpCase`, the op adapters), the golden-file checker the model verifiers use
 * (`GoldenChecker`, `CheckTally`) and the tolerances they share. Not needed to run models.
 */
export { parseOpCases, runOpCase, formatCaseResult, type CaseResult, type OpVectorsRun } from './testing/op-vectors.js';
export * from './testing/tolerance.js';
export { OP_ADAPTERS, type OpAdapter, type OpCase } from './testing/adapters/index.js';
export * from './testing/golden-checker.js';
