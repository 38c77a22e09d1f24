import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../src/runtime/ports';

const run = promisify(execFile);
const BIN = process.env.KEEL_PG_BIN ?? newestServerBin();

/** The newest Debian-installed PostgreSQL server's bin directory (whichever major version the machine has). */
function newestServerBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server under ${root} (Debian package postgresql); or set KEEL_PG_BIN`);
  return join(root, versions.sort((a, b) => Number(a) - Number(b)).at(-1)!, 'bin');
}

/**
 * A throwaway PostgreSQL cluster of the test's own (initdb into a temp directory, listening on
 * 127.0.0.1 and a free port), so an outage can be staged without touching the machine's cluster
 * that other work uses. Run as the `postgres` user when the test runs as root.
 */
export interface ScratchCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, local only). */
  readonly url: string;
  /** `pg_ctl stop -m immediate`: like a crash, no checkpoint; the next start recovers from WAL. */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and deletes its directory. */
  remove(): Promise<void>;
}

async function asPostgres(command: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? 'runuser' : command, asRoot ? ['-u', 'postgres', '--', command, ...args] : args, { timeout: 120_000 });
}

export async function createScratchCluster(): Promise<ScratchCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-pg-'));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const pgCtl = join(BIN, 'pg_ctl');
  await asPostgres(join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const start = () => asPostgres(pgCtl, ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stop = (mode: 'immediate' | 'fast') => asPostgres(pgCtl, ['-D', data, '-m', mode, '-w', 'stop']);
  await start();
  let removed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    crash: () => stop('immediate'),
    start,
    async remove() {
      if (removed) return;
      removed = true;
      await stop('fast').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
