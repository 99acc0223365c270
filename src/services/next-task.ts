interface Scheduler {
  postTask(callback: () => void, options: { priority: 'user-blocking' }): Promise<void>;
}

/**
 * Runs `callback` in a task of its own, after the current task and every microtask it queued, so
 * that everything the current task asked for is still batched together. Where the browser has
 * `scheduler.postTask`, the task is `user-blocking`: it runs ahead of the socket messages and
 * network answers already waiting, which on a busy page would otherwise hold a batch back for
 * a hundred milliseconds and more.
 */
export function nextTask(callback: () => void): void {
  const scheduler = (globalThis as { scheduler?: Scheduler }).scheduler;
  if (typeof scheduler?.postTask === 'function') void scheduler.postTask(callback, { priority: 'user-blocking' });
  else setTimeout(callback, 0);
}
