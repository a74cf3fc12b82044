/**
 * The few Docker Engine API calls the network container needs (create,
 * start, inspect, remove), over dockerd's unix socket: one HTTP round trip
 * each instead of a docker CLI process per step.
 */
import { request } from 'node:http';

export class DockerApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DockerApiError';
  }
}

export interface DockerApi {
  call(method: string, path: string, body?: unknown): Promise<unknown>;
}

export function dockerApi(socketPath: string): DockerApi {
  return {
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          {
            socketPath,
            path,
            method,
            headers: {
              Host: 'docker',
              ...(data === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }),
            },
            timeout: 60000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString();
              let parsed: unknown = undefined;
              try {
                parsed = text === '' ? undefined : JSON.parse(text);
              } catch {
                parsed = text;
              }
              const status = res.statusCode ?? 0;
              if (status >= 300)
                reject(new DockerApiError(status, String((parsed as { message?: unknown } | undefined)?.message ?? text).trim()));
              else resolve(parsed);
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`docker ${method} ${path}: timed out`)));
        req.on('error', reject);
        req.end(data);
      }),
  };
}
