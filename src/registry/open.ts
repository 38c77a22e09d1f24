import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Database, openDatabase } from '../db/database';
import { openArtifactStore } from './artifact-config';
import type { ArtifactStoreSetting } from './artifact-setting';
import type { ArtifactStore } from './artifact-store';
import { RegistryError } from './names';

export interface RegistryHandle {
  database: Database;
  artifacts: ArtifactStore;
  close(): Promise<void>;
}

/**
 * Opens the registry's storage for a short-lived process (the CLI): PostgreSQL when DATABASE_URL
 * is set, else the embedded PGlite database in the data directory, and the configured artifact
 * store. PGlite is single-process and does not lock its files, so a second process opening it
 * while `npm start` runs could corrupt it: that case is detected (on Linux, by the open files of
 * other processes) and refused with an explanation.
 */
export async function openRegistry(options: {
  databaseUrl?: string;
  dataDir: string;
  artifactStore: ArtifactStoreSetting;
  /** Create the embedded database when it does not exist yet (otherwise: an error saying where it looked). */
  create?: boolean;
}): Promise<RegistryHandle> {
  const artifacts = openArtifactStore(options.artifactStore);
  if (!options.databaseUrl) {
    const pgliteDir = join(options.dataDir, 'pglite');
    if (!options.create && !existsSync(pgliteDir)) {
      throw new RegistryError(
        `no keel database in ${options.dataDir} (KEEL_DATA_DIR): run \`npm start\` first, or set DATABASE_URL to your PostgreSQL`,
      );
    }
    const holders = await processesHolding(pgliteDir);
    if (holders.length > 0) {
      const who = holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ');
      throw new RegistryError(
        `the embedded PGlite database in ${pgliteDir} is in use by ${who}, probably \`npm start\`. ` +
          'PGlite is single-process: stop that process first, or run keel against PostgreSQL (DATABASE_URL) so the CLI and the server can share it.',
      );
    }
  }
  const database = await openDatabase({ url: options.databaseUrl, dataDir: options.dataDir });
  return { database, artifacts, close: () => database.close() };
}

/** Other processes with a file under `dir` open (Linux /proc; elsewhere: none found). */
async function processesHolding(dir: string): Promise<{ pid: number; command: string }[]> {
  const root = `${resolve(dir)}/`;
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const found: { pid: number; command: string }[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      if (!target.startsWith(root)) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      found.push({ pid: Number(entry), command: cmdline.split('\0').filter(Boolean).join(' ').slice(0, 120) || '?' });
      break;
    }
  }
  return found;
}
