// Lease-based leader election (coordination.k8s.io/v1), the same state machine as client-go's
// leaderelection: every replica serves traffic, only the holder of the Lease writes status.
// A follower takes over once the Lease was not renewed for leaseDuration (measured on its own
// clock from when it last saw the record change, so clocks need not agree); a leader that
// cannot renew within renewDeadline steps down before anyone else can take over.
import type { Logger } from '../observability/logger.ts';

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaseState {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

/** The three calls leader election needs; the real one is in lease-api.ts. */
export interface LeaseApi {
  /** undefined when the Lease does not exist. */
  get(): Promise<LeaseState | undefined>;
  /** 'conflict' when someone else created it first. */
  create(record: LeaseRecord): Promise<'ok' | 'conflict'>;
  /** 'conflict' when resourceVersion is stale. */
  update(record: LeaseRecord, resourceVersion: string): Promise<'ok' | 'conflict'>;
}

export interface LeaderElectionOptions {
  readonly api: LeaseApi;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface LeaderElector {
  start(): void;
  /** Stops; a leader releases the Lease so a follower takes over at once. */
  stop(): Promise<void>;
  isLeader(): boolean;
  /** One acquire-or-renew round (what the timer runs every retryPeriod); exposed for tests. */
  tick(): Promise<void>;
}

export function microTime(ms: number): string {
  // MicroTime: RFC 3339 with exactly six fractional digits.
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function createLeaderElector(options: LeaderElectionOptions): LeaderElector {
  const { api, identity } = options;
  const now = options.now ?? Date.now;
  const leaseDurationMs = options.leaseDurationMs ?? 10_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 7_000;
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  const log = options.logger.child({ component: 'leader-election', identity });
  let leader = false;
  let lastRenew = 0;
  let observed: { key: string; at: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let ticking: Promise<void> | undefined;

  const becomeLeader = (): void => {
    if (leader) return;
    leader = true;
    log.info('became leader: writing status');
    options.onStartedLeading();
  };
  const stepDown = (why: string): void => {
    if (!leader) return;
    leader = false;
    log.warn({ reason: why }, 'lost leadership: no longer writing status');
    options.onStoppedLeading();
  };

  async function tryAcquireOrRenew(): Promise<boolean> {
    const t = now();
    const current = await api.get();
    const fresh: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: microTime(t),
      renewTime: microTime(t),
      leaseTransitions: 0,
    };
    if (current === undefined) {
      return (await api.create(fresh)) === 'ok';
    }
    const r = current.record;
    const key = `${r.holderIdentity ?? ''}|${r.renewTime ?? ''}|${current.resourceVersion}`;
    if (observed?.key !== key) observed = { key, at: t };
    const holder = r.holderIdentity ?? '';
    const duration = (r.leaseDurationSeconds ?? Math.ceil(leaseDurationMs / 1000)) * 1000;
    if (holder !== '' && holder !== identity && observed.at + duration > t) return false;
    const next: LeaseRecord = holder === identity
      ? { ...fresh, acquireTime: r.acquireTime ?? fresh.acquireTime, leaseTransitions: r.leaseTransitions ?? 0 }
      : { ...fresh, leaseTransitions: (r.leaseTransitions ?? 0) + 1 };
    const result = await api.update(next, current.resourceVersion);
    return result === 'ok';
  }

  async function tick(): Promise<void> {
    if (ticking !== undefined) return ticking;
    ticking = (async () => {
      let ok = false;
      try {
        ok = await tryAcquireOrRenew();
      } catch (err) {
        log.warn({ code: 'KUBE_UNREACHABLE' }, `lease: ${(err as Error).message}`);
      }
      const t = now();
      if (ok) {
        lastRenew = t;
        becomeLeader();
      } else if (leader && t - lastRenew > renewDeadlineMs) {
        stepDown(`lease not renewed for ${t - lastRenew} ms`);
      }
    })().finally(() => {
      ticking = undefined;
    });
    return ticking;
  }

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void tick().finally(schedule);
    }, retryPeriodMs);
    timer.unref();
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      void tick().finally(schedule);
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await ticking;
      if (!leader) return;
      try {
        const current = await api.get();
        if (current?.record.holderIdentity === identity) {
          const t = now();
          await api.update({ ...current.record, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(t) }, current.resourceVersion);
        }
      } catch (err) {
        log.warn({ code: 'KUBE_UNREACHABLE' }, `lease release failed: ${(err as Error).message}`);
      }
      stepDown('stopping');
    },
    isLeader: () => leader,
    tick,
  };
}
