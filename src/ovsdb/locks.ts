/**
 * OVSDB locks (RFC 7047 section 4.1.8-4.1.10): a named lock has one owner and
 * a queue of waiters; ownership passes to the next waiter when the owner
 * unlocks or disconnects, and "steal" takes it at once from its owner.
 */
export class LockTable<S> {
  /** Lock name → sessions in queue order; the first one owns the lock. */
  private readonly queues = new Map<string, S[]>();

  owner(name: string): S | undefined {
    return this.queues.get(name)?.[0];
  }

  /** Queues `s` for the lock; true when it got the lock at once. */
  request(name: string, s: S): boolean {
    const q = this.queues.get(name);
    if (q === undefined) {
      this.queues.set(name, [s]);
      return true;
    }
    if (!q.includes(s)) q.push(s);
    return q[0] === s;
  }

  /**
   * Makes `s` the owner; returns the previous owner, which stays queued
   * right behind it when `requeue(prev)` says so and otherwise loses its place.
   */
  steal(name: string, s: S, requeue: (prev: S) => boolean = () => true): S | undefined {
    const q = this.queues.get(name) ?? [];
    const prev = q[0];
    const rest = q.filter((x) => x !== s && (x !== prev || requeue(x)));
    this.queues.set(name, [s, ...rest]);
    return prev;
  }

  /** Removes `s` from the lock; returns the new owner if ownership passed. */
  release(name: string, s: S): S | undefined {
    const q = this.queues.get(name);
    if (q === undefined) return undefined;
    const wasOwner = q[0] === s;
    const rest = q.filter((x) => x !== s);
    if (rest.length === 0) this.queues.delete(name);
    else this.queues.set(name, rest);
    return wasOwner ? rest[0] : undefined;
  }
}
