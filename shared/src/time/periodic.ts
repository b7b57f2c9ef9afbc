/**
 * A background task run every so often by a server process: never two runs at once (one still
 * under way when the next is due makes that one skip), never what keeps the process alive (the
 * timer is unref'd), and a failure reported, after which the next run tries again. Node-only
 * (`Timeout.unref`): exported from `@tessera/shared/node`.
 */

export interface PeriodicTask {
  stop(): void;
}

/**
 * Runs `task` every `intervalMs`. A failure goes to `onFailure`, except after stop(): a run
 * still under way then may fail because what it uses was closed, which is nothing to report.
 */
export function runPeriodically(
  intervalMs: number,
  task: () => Promise<void>,
  onFailure: (error: unknown) => void,
): PeriodicTask {
  let running = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch((error: unknown) => {
        if (!stopped) onFailure(error);
      })
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
