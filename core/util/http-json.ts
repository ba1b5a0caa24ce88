import http from 'node:http';
import https from 'node:https';

/** A JSON object body, or undefined when there was none (or it was no object). */
export type JsonBody = Record<string, unknown> | undefined;

export interface HttpReply {
  status: number;
  ok: boolean;
  /** The parsed body: whatever DingTalk (or something in between) sent; check before use. */
  json: JsonBody;
}

/**
 * Keep-alive connection pools for DingTalk calls. Node's own http/https with a keep-alive
 * agent costs no extra memory and, measured on loopback, is as fast as undici and about
 * twice as fast as fetch on Node 20, which matters when replies flow at thousands a second.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 32, keepAliveMsecs: 30_000 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 32, keepAliveMsecs: 30_000 }),
};

/** One JSON request; rejects on network errors and timeouts (the caller classifies them). */
export function httpJson(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<HttpReply> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const body = init.body ?? '';
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: init.method,
        agent: agents[u.protocol as 'http:'] ?? undefined,
        headers: { ...init.headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({
            status,
            ok: status >= 200 && status < 300,
            json: parseJson(Buffer.concat(chunks).toString('utf8')),
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(init.timeoutMs, () => req.destroy(new Error(`timed out after ${init.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function parseJson(text: string): JsonBody {
  try {
    const value: unknown = text ? JSON.parse(text) : undefined;
    // A body that is JSON but no object (a number, a list) is as unusable as no body.
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return { message: text.slice(0, 200) };
  }
}
