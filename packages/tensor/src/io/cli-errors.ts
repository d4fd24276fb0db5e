/**
 * One way for every command line to print a failure: the message alone (messages name the
 * problem and the fix), with the stack trace and causes only when asked for with `--debug` or
 * `DEBUG=1` (`RPSAM2_DEBUG=1` too), so a clear error is not buried under JavaScript internals.
 */

/** True when `--debug` is among `argv` or DEBUG / RPSAM2_DEBUG is set to something other than 0. */
export function debugRequested(argv: readonly string[] = process.argv): boolean {
  const on = (v: string | undefined) => v !== undefined && v !== '' && v !== '0';
  return argv.includes('--debug') || on(process.env.DEBUG) || on(process.env.RPSAM2_DEBUG);
}

/** `argv` without `--debug` (each CLI's main strips it before parsing its own options). */
export function withoutDebugFlag(argv: readonly string[]): string[] {
  return argv.filter((a) => a !== '--debug');
}

/** The text to print for a failure: the message, or with debugging on the stack and the causes. */
export function errorText(e: unknown, debug = debugRequested()): string {
  if (!(e instanceof Error)) return String(e);
  if (!debug) return e.message;
  let text = e.stack ?? e.message;
  for (let c = e.cause; c instanceof Error; c = c.cause) text += `\ncaused by: ${c.stack ?? c.message}`;
  return text;
}
