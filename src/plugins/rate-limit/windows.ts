// Fixed windows aligned to the epoch (as Kong's rate limiting): a window of a second is
// [n*1000, (n+1)*1000) ms, so every replica and the Redis server agree where a window starts.

export type WindowName = 'second' | 'minute' | 'hour' | 'day';

export const WINDOW_MS: Readonly<Record<WindowName, number>> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

export const WINDOW_NAMES: readonly WindowName[] = ['second', 'minute', 'hour', 'day'];

/** `Second` for header names (`X-RateLimit-Limit-Second`). */
export function titleOf(w: WindowName): string {
  return w.charAt(0).toUpperCase() + w.slice(1);
}
