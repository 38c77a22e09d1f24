import net from 'node:net';

const HOST = '127.0.0.1';

/** True if `port` can be bound on 127.0.0.1 right now. */
export function isPortFree(port: number, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the OS considers free (bind port 0, read it, release it). */
export function freePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

/** `preferred` when it is free on `host`, else a port the OS considers free. */
export async function preferredOrFreePort(preferred: number, host = HOST): Promise<number> {
  return (await isPortFree(preferred, host)) ? preferred : freePort(host);
}
