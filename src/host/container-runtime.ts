/**
 * The container runtime the tools drive: docker when a dockerd answers on
 * its socket (DOCKER_HOST or /var/run/docker.sock), podman otherwise, or the
 * one asked for. Podman runs with runc and cgroupfs and modest ulimits unless
 * CONTAINERS_CONF says otherwise (crun refuses hybrid cgroups; without
 * CAP_SYS_RESOURCE podman's default rlimits cannot be set).
 */
import { socketAccepts } from '../lib/socket-probe.js';
import { command, CommandFailed } from './command.js';
import { buildNetworkImage } from './network-image.js';
import { dockerApi, DockerApiError } from './docker-api.js';

export const RUNTIMES = ['docker', 'podman'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** Image of the "network container": busybox, built locally (see network-image.ts). */
export const NETWORK_IMAGE: Record<RuntimeName, string> = { docker: 'ovnts-network:local', podman: 'localhost/ovnts-network:local' };

export interface ContainerRuntime {
  readonly name: RuntimeName;
  /** Starts a detached container without networking running `cmd`; resolves to its full id. */
  runDetached(name: string, cmd: readonly string[]): Promise<string>;
  /** The pid of the container's first process (its network namespace is /proc/PID/ns/net). */
  pid(id: string): Promise<number>;
  /** Kills and removes the container; a container that is already gone is not an error. */
  remove(id: string): Promise<void>;
  /** True when the container exists. */
  exists(id: string): Promise<boolean>;
}

/** The environment the runtime is chosen and run with (a resident agent's clients each bring theirs). */
export type RuntimeEnv = Readonly<Record<string, string | undefined>>;

/** The variables that choose and configure the runtimes, passed to their CLIs. */
const RUNTIME_VARS = ['DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CONTEXT', 'CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINER_HOST'];

function runtimeVars(env: RuntimeEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of RUNTIME_VARS) if (env[k] !== undefined) out[k] = env[k];
  return out;
}

function dockerSocket(env: RuntimeEnv): string {
  const h = env['DOCKER_HOST'];
  if (h !== undefined && h.startsWith('unix://')) return h.slice('unix://'.length);
  return '/var/run/docker.sock';
}

/** docker when dockerd answers (or DOCKER_HOST is a TCP address), podman otherwise. */
export async function detectRuntime(env: RuntimeEnv = process.env): Promise<RuntimeName> {
  const h = env['DOCKER_HOST'];
  if (h !== undefined && !h.startsWith('unix://')) return 'docker';
  return (await socketAccepts(dockerSocket(env))) ? 'docker' : 'podman';
}

function podmanGlobals(env: RuntimeEnv): string[] {
  return env['CONTAINERS_CONF'] === undefined ? ['--runtime=runc', '--cgroup-manager=cgroupfs'] : [];
}

function podmanRunFlags(env: RuntimeEnv): string[] {
  return env['CONTAINERS_CONF'] === undefined ? ['--ulimit=nofile=1024:1024', '--ulimit=nproc=4096:4096'] : [];
}

const NO_IMAGE =
  /No such image|image not known|Unable to find image|unable to find .*image|not found: manifest unknown|pull access denied/i;
const GONE = /No such container|no container with (name or )?ID|not found/i;

/** docker through the Engine API on its unix socket (the CLI for anything else). */
function dockerOverApi(socketPath: string, env: RuntimeEnv): ContainerRuntime {
  const api = dockerApi(socketPath);
  const create = (cname: string, cmd: readonly string[]): Promise<unknown> =>
    api.call('POST', `/containers/create?name=${encodeURIComponent(cname)}`, {
      Image: NETWORK_IMAGE.docker,
      Cmd: cmd,
      HostConfig: { NetworkMode: 'none' },
    });
  const gone = (e: unknown): boolean => e instanceof DockerApiError && e.status === 404;
  return {
    name: 'docker',
    async runDetached(cname, cmd) {
      let created: unknown;
      try {
        created = await create(cname, cmd);
      } catch (e) {
        if (!gone(e) || !NO_IMAGE.test((e as Error).message)) throw e;
        await buildNetworkImage('docker', NETWORK_IMAGE.docker, undefined, runtimeVars(env));
        created = await create(cname, cmd);
      }
      const id = String((created as { Id?: unknown }).Id ?? '');
      try {
        await api.call('POST', `/containers/${id}/start`);
      } catch (e) {
        await api.call('DELETE', `/containers/${id}?force=true`).catch(() => undefined);
        throw e;
      }
      return id;
    },
    async pid(id) {
      const pid = Number(((await api.call('GET', `/containers/${id}/json`)) as { State?: { Pid?: unknown } }).State?.Pid);
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`container ${id} is not running`);
      return pid;
    },
    async remove(id) {
      try {
        await api.call('DELETE', `/containers/${id}?force=true`);
      } catch (e) {
        if (!gone(e)) throw e;
      }
    },
    async exists(id) {
      try {
        await api.call('GET', `/containers/${id}/json`);
        return true;
      } catch (e) {
        if (gone(e)) return false;
        throw e;
      }
    },
  };
}

export function containerRuntime(name: RuntimeName, env: RuntimeEnv = process.env): ContainerRuntime {
  const h = env['DOCKER_HOST'];
  if (name === 'docker' && (h === undefined || h.startsWith('unix://'))) return dockerOverApi(dockerSocket(env), env);
  const vars = { env: runtimeVars(env) };
  const cli = (args: readonly string[]): Promise<string> =>
    name === 'docker' ? command('docker', args, vars) : command('podman', [...podmanGlobals(env), ...args], vars);
  const run = (cname: string, cmd: readonly string[]): Promise<string> =>
    cli([
      'run',
      '-d',
      '--pull=never',
      '--net=none',
      `--name=${cname}`,
      ...(name === 'podman' ? podmanRunFlags(env) : []),
      NETWORK_IMAGE[name],
      ...cmd,
    ]);
  return {
    name,
    async runDetached(cname, cmd) {
      let out: string;
      try {
        out = await run(cname, cmd);
      } catch (e) {
        if (!(e instanceof CommandFailed) || !NO_IMAGE.test(e.stderr)) throw e;
        // First use on this host: build the image, then start again.
        await cli(['rm', '-f', cname]).catch(() => undefined);
        await buildNetworkImage(name, NETWORK_IMAGE[name], undefined, runtimeVars(env));
        out = await run(cname, cmd);
      }
      const id = out.trim().split('\n').pop() ?? '';
      if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`${name} run printed no container id: ${out.trim()}`);
      return id;
    },
    async pid(id) {
      const pid = Number((await cli(['inspect', '-f', '{{.State.Pid}}', id])).trim());
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`container ${id} is not running`);
      return pid;
    },
    async remove(id) {
      try {
        await cli(['rm', '-f', id]);
      } catch (e) {
        if (!(e instanceof CommandFailed) || !GONE.test(e.stderr)) throw e;
      }
    },
    async exists(id) {
      try {
        await cli(['inspect', '-f', '{{.Id}}', id]);
        return true;
      } catch (e) {
        if (e instanceof CommandFailed && GONE.test(e.stderr)) return false;
        throw e;
      }
    },
  };
}
