/**
 * Why a `server.publicUrl` cannot be given to DingTalk, or undefined when it can. DingTalk
 * only calls https addresses; plain http is allowed for loopback so the simulator works.
 */
export function publicUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'expected an absolute URL such as https://bot.example.com';
  }
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && isLoopback(u.hostname)) return undefined;
  return `DingTalk only delivers callbacks to https addresses; put the bot behind a TLS-terminating proxy and set https://${u.host}${u.pathname === '/' ? '' : u.pathname} (plain http is accepted for localhost only)`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** `publicUrl` joined with a route path (no double slashes). */
export function callbackUrl(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${path}`;
}

/**
 * `server.publicUrl`, which HTTP mode needs: the config schema requires it there, so a
 * missing one here is a bug in the caller, reported as such rather than sent to DingTalk.
 */
export function requirePublicUrl(server: { publicUrl?: string }): string {
  if (!server.publicUrl) throw new Error('server.publicUrl is required in HTTP mode (dingtalk.mode: http)');
  return server.publicUrl;
}
