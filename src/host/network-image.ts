/**
 * The image of the "network container" (the container that holds a network
 * namespace for `docker run --net=container:ID`): busybox-static with its
 * applets, built here from /bin/busybox and imported into the runtime, so
 * no registry or internet is needed.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command } from './command.js';

/** Debian's busybox-static. */
export const BUSYBOX = '/bin/busybox';

/** Builds the busybox root file system and imports it as `image` into docker or podman. */
export async function buildNetworkImage(
  runtime: 'docker' | 'podman',
  image: string,
  busybox = BUSYBOX,
  env: Readonly<Record<string, string>> = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-image-'));
  try {
    const root = join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    const applets = (await command(busybox, ['--list'])).split('\n').filter((a) => a !== '' && a !== 'busybox');
    for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
    const tar = join(dir, 'rootfs.tar');
    await command('tar', ['-C', root, '-cf', tar, '.']);
    const args = ['import', '--change', 'CMD ["/bin/sh"]', tar, image];
    await command(runtime, args, { env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
