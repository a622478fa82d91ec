/**
 * Calls `fn` now and then every `ms` after each call ends (never two at once), but only while
 * the page is visible: a hidden tab stops asking, and showing it again asks at once. Returns
 * the function that stops it; views call it when they are left.
 */
export function pollWhileVisible(
  fn: () => Promise<unknown> | unknown,
  ms: number,
  doc: Pick<Document, "hidden" | "addEventListener" | "removeEventListener"> = document,
): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  let stopped = false;
  const schedule = () => {
    if (!stopped && !doc.hidden && timer === null && !running)
      timer = setTimeout(() => void tick(), ms);
  };
  const tick = async () => {
    timer = null;
    if (stopped || doc.hidden || running) return;
    running = true;
    try {
      await fn();
    } catch {
      // `fn` shows its own errors; polling goes on.
    } finally {
      running = false;
    }
    schedule();
  };
  const onVisibility = () => {
    if (doc.hidden) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    } else if (timer === null && !running) void tick();
  };
  doc.addEventListener("visibilitychange", onVisibility);
  void tick();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    doc.removeEventListener("visibilitychange", onVisibility);
  };
}
