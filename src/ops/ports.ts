/** Port selection shared by the HTTP server and the embedded MQTT broker. */
import { createServer } from 'node:net';
import { AppError } from '../core/index.ts';

/** Is this TCP port free on this host? */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * A default port that is taken falls back to a free one; an explicitly configured port
 * that is taken is an error that says how to choose another.
 */
export async function choosePort(
  host: string,
  port: number,
  explicit: boolean,
  envVar: string,
  what: string,
): Promise<{ port: number; fellBack: boolean }> {
  if (port === 0 || (await portFree(host, port))) return { port, fellBack: false };
  if (explicit) {
    throw new AppError(
      'PW_PORT_IN_USE',
      `${what} port ${port} on ${host} is already in use. Set ${envVar} to another port, or to 0 to pick a free one.`,
      {
        category: 'user',
      },
    );
  }
  return { port: 0, fellBack: true };
}
