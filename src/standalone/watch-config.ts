import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface ConfigWatcher {
  close(): void;
}

export interface WatchTiming {
  /** Quiet time after the last event before reloading: lets one write's burst of events settle. */
  readonly settleMs: number;
  /** Upper bound on the wait while events keep coming, so a busy folder still reloads. */
  readonly maxWaitMs: number;
}

// An editor's save or a `mv` of a new file produces a few events within a millisecond or two;
// 5 ms of quiet catches those without adding noticeable latency to a config change. Writers
// that take longer should write a temporary file and rename it into place (atomic).
const DEFAULT_TIMING: WatchTiming = { settleMs: 5, maxWaitMs: 100 };

/**
 * Calls `onChange` after files under `path` change, debounced (settle time with a maximum
 * wait). A file path is watched through its folder so that an editor's rename-over-the-original
 * is seen.
 */
export async function watchConfig(path: string, onChange: () => void, timing: WatchTiming = DEFAULT_TIMING): Promise<ConfigWatcher> {
  const full = resolve(path);
  const isDir = (await stat(full)).isDirectory();
  const dir = isDir ? full : dirname(full);
  const name = basename(full);
  let timer: NodeJS.Timeout | undefined;
  let firstEventAt: number | undefined;
  const run = (): void => {
    timer = undefined;
    firstEventAt = undefined;
    onChange();
  };
  const fire = (): void => {
    const now = performance.now();
    firstEventAt ??= now;
    clearTimeout(timer);
    const wait = Math.max(0, Math.min(timing.settleMs, firstEventAt + timing.maxWaitMs - now));
    timer = setTimeout(run, wait);
  };
  const watcher: FSWatcher = watch(dir, { recursive: isDir, persistent: false }, (_event, file) => {
    if (isDir || file === null || file === name) fire();
  });
  watcher.on('error', () => fire());
  return {
    close(): void {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
