import { Client, Connection } from '@temporalio/client';
import type { Environment } from '../runtime/environment';

/** The CLI never starts a server: it talks to TEMPORAL_ADDRESS, or to the one `npm start` runs. */
export async function connectClient(env: Environment): Promise<{ client: Client; close: () => Promise<void> }> {
  const address = env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address,
      tls: env.temporalTls || undefined,
      apiKey: env.TEMPORAL_API_KEY,
      connectTimeout: '5s',
    });
  } catch (error) {
    throw new Error(
      `cannot reach Temporal at ${address} (is \`npm start\` running, or TEMPORAL_ADDRESS set?): ${(error as Error).message}`,
    );
  }
  return { client: new Client({ connection, namespace: env.TEMPORAL_NAMESPACE }), close: () => connection.close() };
}
