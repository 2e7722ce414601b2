import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface ConfigWatcher {
  close(): void;
}

/**
 * Calls `onChange` after files under `path` change, debounced: editors write a file in several
 * steps (truncate, write, rename), and one reload per burst is enough. A file path is watched
 * through its folder so that an editor's rename-over-the-original is seen.
 */
export async function watchConfig(path: string, onChange: () => void, debounceMs = 100): Promise<ConfigWatcher> {
  const full = resolve(path);
  const isDir = (await stat(full)).isDirectory();
  const dir = isDir ? full : dirname(full);
  const name = basename(full);
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
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
