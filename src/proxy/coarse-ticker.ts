/**
 * One interval timer for many objects' coarse timeouts, instead of a timer per socket that node
 * would re-arm on every read and write: `tick` runs every `ms` over the watched objects, and the
 * timer stops while nothing is watched (it never holds the process open).
 */
export class CoarseTicker<T> {
  readonly #watched = new Set<T>();
  readonly #ms: number;
  readonly #tick: (watched: ReadonlySet<T>) => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number, tick: (watched: ReadonlySet<T>) => void) {
    this.#ms = ms;
    this.#tick = tick;
  }

  watch(x: T): void {
    this.#watched.add(x);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#run(), this.#ms);
      this.#timer.unref();
    }
  }

  unwatch(x: T): void {
    this.#watched.delete(x);
  }

  #run(): void {
    this.#tick(this.#watched);
    if (this.#watched.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
