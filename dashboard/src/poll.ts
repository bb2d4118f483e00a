/**
 * Repeats a refresh while a view is on screen. The next round starts only after the previous one
 * finished, so a slow worker never gets overlapping requests from one tab; `stop` ends it for good.
 */
export interface Poller {
  stop(): void;
}

export function poll(round: () => Promise<boolean>, intervalMs: number): Poller {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    if (stopped) return;
    let again = true;
    try {
      again = await round();
    } catch {
      // The round shows its own error; polling goes on so the view recovers when the worker does.
    }
    if (!stopped && again) timer = setTimeout(tick, intervalMs);
  };
  void tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
