/**
 * Imported first by every helper: exits when the test process that spawned
 * it is gone (its parent pid changes, e.g. to 1), so a crashed or killed
 * vitest never leaves helpers running. Async helpers are covered by a timer;
 * helpers with synchronous loops also call parentGone() every few thousand
 * iterations (the timer cannot fire inside a synchronous loop).
 */
const parent = Number(process.env.COMMY_TEST_PARENT_PID ?? process.ppid);

export function parentGone(): boolean {
  if (process.ppid !== parent) process.exit(3);
  return false;
}

setInterval(parentGone, 250).unref();
parentGone();
