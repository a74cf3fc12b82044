/**
 * A token bucket for log messages, as OVS's `VLOG_RATE_LIMIT_INIT(RATE, BURST)`
 * (lib/vlog.h): up to BURST messages at once, then RATE a minute; what is
 * dropped is counted, so the next message that passes can say how many were.
 */
const MSG_TOKENS = 60_000;

export class RateLimit {
  private tokens: number;
  private last: number;
  private dropped = 0;
  private firstDropped = 0;
  private lastDropped = 0;

  /** `perMinute` messages a minute after a burst of `burst`; `now` in ms (injectable for tests). */
  constructor(
    readonly perMinute: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst * MSG_TOKENS;
    this.last = now();
  }

  /** True when a message may be written now; otherwise counts it as dropped. */
  allow(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst * MSG_TOKENS, this.tokens + (t - this.last) * this.perMinute);
    this.last = t;
    if (this.tokens >= MSG_TOKENS) {
      this.tokens -= MSG_TOKENS;
      return true;
    }
    if (this.dropped++ === 0) this.firstDropped = t;
    this.lastDropped = t;
    return false;
  }

  /**
   * The line OVS writes before the first message that passes after some were
   * dropped ("Dropped N log messages in last S seconds (most recently, T
   * seconds ago) due to excessive rate"), once; undefined when none were.
   */
  takeDroppedNotice(): string | undefined {
    if (this.dropped === 0) return undefined;
    const t = this.now();
    const n = this.dropped;
    this.dropped = 0;
    const since = Math.round((t - this.firstDropped) / 1000);
    const recent = Math.round((t - this.lastDropped) / 1000);
    return `Dropped ${n} log messages in last ${since} seconds (most recently, ${recent} seconds ago) due to excessive rate`;
  }
}

/**
 * `log` behind a {@link RateLimit} (OVS's `VLOG_*_RL`): up to `burst`
 * messages at once, then `perMinute`; the first message let through after
 * some were dropped is preceded by OVS's "Dropped N log messages..." line.
 */
export function rateLimitedLog(
  log: (msg: string) => void,
  perMinute: number,
  burst: number,
  now: () => number = Date.now,
): (msg: string) => void {
  const rl = new RateLimit(perMinute, burst, now);
  return (msg) => {
    if (!rl.allow()) return;
    const notice = rl.takeDroppedNotice();
    if (notice !== undefined) log(notice);
    log(msg);
  };
}
