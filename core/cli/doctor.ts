import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { type LoadedConfig, loadConfig } from '../config/load-config.js';
import type { ApiBudget } from '../deliver/openapi/api-budget.js';
import { ApiBudgetToken } from '../deliver/openapi/api-budget.js';
import {
  type CheckResult,
  type Diagnostics,
  DiagnosticsToken,
  exitCodeOf,
  formatResults,
  resultsJson,
} from '../diagnostics/diagnostics.js';
import { DOCTOR_TOKEN_HEADER, doctorToken } from '../diagnostics/register-core-checks.js';
import { en } from '../i18n/catalog/en.js';
import { zhCN } from '../i18n/catalog/zh-CN.js';
import { I18n } from '../i18n/i18n.js';
import { Bot } from '../runtime/bot.js';
import { composeDingTalk } from '../runtime/wire-delivery.js';

type Out = (text: string) => void;

/**
 * `dingops doctor [--config f] [--json] [--fresh] [--only id,...]`: asks the running bot
 * (`GET /doctor` on this machine) so the live connection and the plugins' checks are
 * included; when no bot answers, runs the core checks here. Exit 0 ok, 1 warnings, 2 errors.
 */
export async function doctor(
  args: string[],
  out: Out = (t) => process.stdout.write(`${t}\n`),
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  const only = values.only ? values.only.split(',') : undefined;
  let config: LoadedConfig | undefined;
  let configProblem: CheckResult | undefined;
  try {
    config = loadConfig({ file: values.config });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    configProblem = { id: 'config', severity: 'error', message: err.message, where: err.file };
  }
  const i18n = new I18n(config?.core.locale ?? 'en');
  i18n.add({ en, 'zh-CN': zhCN });
  const list = config
    ? ((await fromRunningBot(config, values.fresh, only)) ?? (await here(config, values.fresh, only)))
    : configProblem
      ? [configProblem]
      : [];
  out(values.json ? resultsJson(list) : formatResults(list, (k, v) => i18n.t(k, v)));
  return exitCodeOf(list);
}

async function fromRunningBot(config: LoadedConfig, fresh: boolean, only?: string[]) {
  const q = new URLSearchParams();
  if (fresh) q.set('fresh', '1');
  if (only) q.set('only', only.join(','));
  try {
    const res = await fetch(`http://127.0.0.1:${config.core.server.port}/doctor?${q}`, {
      signal: AbortSignal.timeout(60_000),
      headers: { [DOCTOR_TOKEN_HEADER]: doctorToken(config.core.dingtalk.clientSecret) },
    });
    if (!res.ok) return undefined;
    return ((await res.json()) as { checks: CheckResult[] }).checks;
  } catch {
    return undefined;
  }
}

/** No bot running: the core checks, with the plugins' config validated but nothing of theirs started. */
async function here(config: LoadedConfig, fresh: boolean, only?: string[]): Promise<CheckResult[]> {
  const d = config.core.dingtalk;
  const bot = await Bot.create({
    config,
    listen: false,
    setupPlugins: false,
    defaultMetrics: false,
    logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
    compose: d.clientId && d.clientSecret ? (c) => composeDingTalk(c) : undefined,
  });
  try {
    const budget = bot.container.isRegistered(ApiBudgetToken)
      ? bot.resolve<ApiBudget>(ApiBudgetToken)
      : undefined;
    await budget?.start();
    const results = await bot.resolve<Diagnostics>(DiagnosticsToken).run({ fresh, only });
    return results;
  } finally {
    await bot.stop('doctor');
  }
}
