import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import type { DingTalkConfig } from '../config/core-schema.js';
import { type LoadedConfig, loadConfig } from '../config/load-config.js';
import { callbackUrl, requirePublicUrl } from '../config/public-url.js';
import { CallbackCrypto, randomAlnum } from '../receive/http/callback-crypto.js';
import { robotCallbackSign } from '../receive/http/robot-signature.js';
import { ConfigurableDWClient, GatewayError } from '../receive/stream/stream-client.js';

type Out = (line: string) => void;

/**
 * `dingops register`: tells the operator what to paste where in DingTalk's developer
 * console, and checks it. Stream mode: "Connected" once the gateway accepts the
 * credentials. HTTP mode: "Registered" with the robot message and event subscription URLs,
 * after calling them the way DingTalk does (a signed request, a `check_url` push).
 */
export async function register(
  args: string[],
  out: Out = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  let config: LoadedConfig;
  try {
    config = loadConfig({ file: values.config });
  } catch (err) {
    if (err instanceof ConfigError) {
      out(err.message);
      return 1;
    }
    throw err;
  }
  const d = config.core.dingtalk;
  if (!d.clientId || !d.clientSecret) {
    out(
      'No DingTalk credentials: set dingtalk.clientId and dingtalk.clientSecret (or DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET). Without them `dingops start` refuses to run; `dingops start --demo` (or `npm start`) runs on the embedded simulator.',
    );
    return 1;
  }
  return d.mode === 'http'
    ? registerHttp(d, requirePublicUrl(config.core.server), out)
    : registerStream(d, out);
}

async function registerStream(d: DingTalkConfig, out: Out): Promise<number> {
  const client = new ConfigurableDWClient({ ...d, subscriptions: [{ type: 'EVENT', topic: '*' }] });
  try {
    await client.getEndpoint();
  } catch (err) {
    out(`Not connected: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof GatewayError && err.status >= 400 && err.status < 500)
      out(
        'Check dingtalk.clientId and dingtalk.clientSecret (developer console > Credentials), that the app is published, and that its robot uses Stream mode.',
      );
    return 1;
  }
  out(`Connected: DingTalk's gateway accepted the credentials of ${d.clientId} (Stream mode).`);
  out('In the developer console choose:');
  out('  Robot > message receiving mode: Stream mode (机器人配置 > 消息接收模式: Stream 模式)');
  out('  Event subscription > push mode: Stream (事件订阅 > 推送方式: Stream 模式推送)');
  out('Nothing else to paste: no public address is needed.');
  return 0;
}

async function registerHttp(d: DingTalkConfig, publicUrl: string, out: Out): Promise<number> {
  const robotUrl = callbackUrl(publicUrl, d.callbacks.robot);
  const eventsUrl = callbackUrl(publicUrl, d.callbacks.events);
  out('HTTP mode. Paste these into the DingTalk developer console:');
  out(`  Robot message URL (机器人配置 > 消息接收模式: HTTP 模式 > 消息接收地址): ${robotUrl}`);
  out(`  Event subscription URL (事件订阅 > 推送方式: HTTP 推送 > 请求网址): ${eventsUrl}`);
  out("    with the page's 加密 aes_key in dingtalk.aesKey and 签名 token in dingtalk.token");
  out(
    `  Card callbacks are registered by the bot when it starts: ${callbackUrl(publicUrl, d.callbacks.cards)}`,
  );
  out('Checking them as DingTalk will (the bot must be running):');
  const problems: string[] = [];
  const robot = await checkRobotUrl(robotUrl, d.clientSecret);
  out(`  ${robot.ok ? '✓' : '✗'} robot message URL: ${robot.detail}`);
  if (!robot.ok) problems.push(robot.detail);
  if (d.aesKey && d.token) {
    const events = await checkEventUrl(eventsUrl, new CallbackCrypto(d.token, d.aesKey, d.ownerKey));
    out(`  ${events.ok ? '✓' : '✗'} event subscription URL: ${events.detail}`);
    if (!events.ok) problems.push(events.detail);
  } else {
    const detail =
      'dingtalk.aesKey and dingtalk.token are not set, so events (group installs, renames) cannot arrive';
    out(`  ✗ event subscription URL: ${detail}`);
    problems.push(detail);
  }
  if (problems.length) {
    out('Not registered yet: fix the items marked ✗ and run `dingops register` again.');
    return 1;
  }
  out(`Registered: DingTalk can reach ${robotUrl} and ${eventsUrl}.`);
  return 0;
}

/** A correctly signed request with no message: the bot must accept the signature and refuse the body (400). */
async function checkRobotUrl(url: string, secret: string): Promise<{ ok: boolean; detail: string }> {
  const timestamp = String(Date.now());
  const r = await post(url, '{}', { timestamp, sign: robotCallbackSign(timestamp, secret) });
  if ('error' in r)
    return { ok: false, detail: `not reachable (${r.error}); is the bot running behind this address?` };
  if (r.status === 400)
    return { ok: true, detail: 'reachable, and the bot accepts signatures made with this app secret' };
  if (r.status === 401)
    return { ok: false, detail: 'the bot refused the signature: it runs with another dingtalk.clientSecret' };
  return { ok: false, detail: `unexpected HTTP ${r.status} (is another service behind this address?)` };
}

/** The `check_url` push DingTalk sends when the URL is saved; the reply must be the encrypted `success`. */
async function checkEventUrl(url: string, crypto: CallbackCrypto): Promise<{ ok: boolean; detail: string }> {
  const encrypt = crypto.encrypt('{"EventType":"check_url"}');
  const timestamp = String(Date.now());
  const nonce = randomAlnum(8);
  const target = new URL(url);
  target.searchParams.set('msg_signature', crypto.signature(timestamp, nonce, encrypt));
  target.searchParams.set('timestamp', timestamp);
  target.searchParams.set('nonce', nonce);
  const r = await post(target.href, JSON.stringify({ encrypt }), {});
  if ('error' in r) return { ok: false, detail: `not reachable (${r.error})` };
  if (r.status !== 200)
    return {
      ok: false,
      detail: `HTTP ${r.status}: the bot refused check_url (does it run with the same aesKey and token?)`,
    };
  try {
    const reply = JSON.parse(r.body) as Record<string, string>;
    const plain = crypto.decrypt(
      reply.msg_signature ?? '',
      reply.timeStamp ?? '',
      reply.nonce ?? '',
      reply.encrypt ?? '',
    );
    if (plain === 'success')
      return { ok: true, detail: 'answers check_url with the encrypted success DingTalk expects' };
    return { ok: false, detail: `the reply decrypts to '${plain.slice(0, 20)}', not 'success'` };
  } catch (err) {
    return {
      ok: false,
      detail: `the reply is not DingTalk's encrypted success (${err instanceof Error ? err.message : String(err)})`,
    };
  }
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(5_000),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { error: cause ?? (err instanceof Error ? err.message : String(err)) };
  }
}
