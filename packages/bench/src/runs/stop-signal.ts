/**
 * A stop request shared by the stages of a run (set by Ctrl-C in the CLI, by a test directly):
 * loops check `requested` between units of work, and long-running parts (the trainer) register a
 * hook to be told at once.
 */
export class StopSignal {
  private flag = false;
  private readonly hooks = new Set<() => void>();

  /** Whether a stop was requested. */
  get requested(): boolean {
    return this.flag;
  }

  /** Requests a stop (idempotent) and calls the registered hooks. */
  request(): void {
    if (this.flag) return;
    this.flag = true;
    for (const h of this.hooks) h();
  }

  /**
   * An `onTrainer`-style callback: given a stoppable worker (a trainer) it forwards stop requests
   * to it, given null it stops forwarding.
   */
  forwarder(): (worker: { requestStop(): void } | null) => void {
    let unhook = () => {};
    return (worker) => {
      unhook();
      unhook = worker ? this.onRequest(() => worker.requestStop()) : () => {};
    };
  }

  /** Calls `hook` on a stop request (at once if one is pending); returns the unregister function. */
  onRequest(hook: () => void): () => void {
    if (this.flag) hook();
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }
}
