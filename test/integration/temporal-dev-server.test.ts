import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { afterAll, describe, expect, it } from 'vitest';
import { startTemporalDevServer, type TemporalDevServer } from '../../src/runtime/temporal-dev-server';

// Starts real dev servers of its own (independent of the one from the global setup), on free ports.

const dataDir = mkdtempSync(path.join(tmpdir(), 'keel-devserver-test-'));
const started: TemporalDevServer[] = [];
const log = (m: string) => console.log(`[temporal] ${m}`);

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(opts: Partial<Parameters<typeof startTemporalDevServer>[0]> = {}) {
  const server = await startTemporalDevServer({ dataDir, persistent: true, log, ...opts });
  started.push(server);
  return server;
}

async function withClient<T>(server: TemporalDevServer, fn: (client: Client) => Promise<T>, namespace = server.namespace): Promise<T> {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await fn(new Client({ connection, namespace }));
  } finally {
    await connection.close();
  }
}

async function namespaces(client: Client): Promise<string[]> {
  const res = await client.workflowService.listNamespaces({});
  return res.namespaces.map((n) => n.namespaceInfo?.name ?? '').sort();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('temporal dev server', () => {
  const workflowId = 'keel-persistence-check';

  // Generous: may need to build the CLI with `go install` on a cold machine.
  it('starts persistently, serves gRPC and the UI, and stops', { timeout: 30 * 60_000 }, async () => {
    const server = await start({ namespace: 'keel-test' });
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.dbFilename).toBe(path.join(dataDir, 'temporal.sqlite'));

    await withClient(server, async (client) => {
      expect(await namespaces(client)).toEqual(expect.arrayContaining(['default', 'keel-test']));
      // State to find again after a restart: a namespace registered at runtime and a running workflow.
      await client.workflowService.registerNamespace({
        namespace: 'keel-registered',
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
      await client.workflow.start('noSuchWorkflowType', { taskQueue: 'nobody-polls-this', workflowId });
    });

    expect(server.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ui = await fetch(server.uiUrl!);
    expect(ui.status).toBe(200);

    await server.stop();
    await server.stop(); // idempotent
    if (server.pid !== undefined) expect(isAlive(server.pid)).toBe(false);
    await expect(Connection.connect({ address: server.address, connectTimeout: 1_000 })).rejects.toThrow();
  });

  it('keeps namespaces and workflows across a restart on the same db file', async () => {
    expect(existsSync(path.join(dataDir, 'temporal.sqlite'))).toBe(true);
    const server = await start({ headless: true }); // no --namespace keel-test this time
    expect(server.uiUrl).toBeUndefined();
    await withClient(server, async (client) => {
      expect(await namespaces(client)).toEqual(expect.arrayContaining(['default', 'keel-test', 'keel-registered']));
    });
    // the workflow was started in namespace keel-test during the first run
    await withClient(
      server,
      async (client) => {
        const description = await client.workflow.getHandle(workflowId).describe();
        expect(description.status.name).toBe('RUNNING');
      },
      'keel-test',
    );
    await server.stop();
  });

  it('with persistent:false keeps no state file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keel-devserver-mem-'));
    try {
      const server = await startTemporalDevServer({ dataDir: dir, persistent: false, headless: true });
      started.push(server);
      expect(server.dbFilename).toBeUndefined();
      await withClient(server, async (client) => expect(await namespaces(client)).toContain('default'));
      await server.stop();
      expect(existsSync(path.join(dir, 'temporal.sqlite'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with the server output when the given port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startTemporalDevServer({ dataDir, persistent: false, headless: true, port })).rejects.toThrow(
        /exited during startup[\s\S]*address already in use/,
      );
    } finally {
      blocker.close();
    }
  });
});
