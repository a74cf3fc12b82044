/**
 * The lab's journal: every thing a lab run creates (its directory, network
 * namespaces, processes, objects in an NB database it did not start) is
 * recorded in `<dir>/lab.json` the moment it exists, and teardown undoes the
 * records last first. The same teardown serves the end of a run, Ctrl-C, and
 * `ovnts lab --clean` of a run that was kept or crashed — the journal on disk
 * is all it needs.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, stopProcess } from './exec.js';
import { deleteNetns } from './netns.js';

export type Resource =
  /** A process; `exitCtl`: ask it to exit (with cleanup) on this control socket first. */
  | { readonly kind: 'process'; readonly name: string; readonly pid: number; readonly exitCtl?: string }
  | { readonly kind: 'netns'; readonly name: string }
  /** Lab objects in a Northbound database the lab did not start (removed with `cleanNorthbound`). */
  | { readonly kind: 'northbound'; readonly remote: string };

interface JournalFile {
  readonly id: string;
  /** The `ovnts lab` process that wrote it. */
  readonly pid: number;
  keep: boolean;
  readonly resources: Resource[];
}

const FILE = 'lab.json';

/** Undoes `northbound` resources; given by the caller so this module needs no OVSDB client. */
export type NorthboundCleaner = (remote: string) => Promise<void>;

export class Journal {
  private isClosed = false;
  private constructor(
    readonly dir: string,
    private readonly data: JournalFile,
  ) {}

  /** A new journal in `dir` (which the teardown removes last). */
  static create(dir: string, id: string): Journal {
    const j = new Journal(dir, { id, pid: process.pid, keep: false, resources: [] });
    j.save();
    return j;
  }

  /** The journals under `base` whose lab process is gone (kept or crashed runs). */
  static orphans(base: string): Journal[] {
    if (!existsSync(base)) return [];
    const out: Journal[] = [];
    for (const name of readdirSync(base)) {
      const dir = join(base, name);
      let data: JournalFile;
      try {
        data = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as JournalFile;
      } catch {
        continue;
      }
      if (!processExists(data.pid)) out.push(new Journal(dir, data));
    }
    return out;
  }

  get id(): string {
    return this.data.id;
  }

  /** True once `teardown` started. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Records a resource. After `teardown` started, the resource is undone at
   * once instead (a step still in flight when Ctrl-C came leaves nothing).
   */
  async add(r: Resource, clean: NorthboundCleaner): Promise<void> {
    if (this.isClosed) {
      await undo(r, this.dir, clean);
      return;
    }
    this.data.resources.push(r);
    this.save();
  }

  /** `--keep`: the journal outlives this process, for `ovnts lab --clean`. */
  keep(): void {
    this.data.keep = true;
    this.save();
  }

  /** Undoes every record, last first, then removes the directory. Errors are collected, not fatal. */
  async teardown(clean: NorthboundCleaner): Promise<string[]> {
    this.isClosed = true;
    const errors: string[] = [];
    for (const r of [...this.data.resources].reverse()) {
      try {
        await undo(r, this.dir, clean);
      } catch (e) {
        errors.push(`${describe(r)}: ${(e as Error).message}`);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    return errors;
  }

  private save(): void {
    writeFileSync(join(this.dir, FILE), `${JSON.stringify(this.data, null, 1)}\n`);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(r: Resource): string {
  return r.kind === 'process' ? `${r.name} (pid ${r.pid})` : r.kind === 'netns' ? `namespace ${r.name}` : `NB objects on ${r.remote}`;
}

async function undo(r: Resource, dir: string, clean: NorthboundCleaner): Promise<void> {
  switch (r.kind) {
    case 'process':
      // ovs-appctl(8) speaks to any unixctl socket, ovnts's included.
      if (r.exitCtl !== undefined && existsSync(r.exitCtl)) await run('ovs-appctl', ['-t', r.exitCtl, 'exit'], { timeoutMs: 10000 });
      // Every process the lab starts names its directory on the command line.
      await stopProcess(r.pid, dir);
      return;
    case 'netns':
      await deleteNetns(r.name);
      return;
    case 'northbound':
      await clean(r.remote);
      return;
  }
}
