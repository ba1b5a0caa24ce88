import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import { preparePlugins } from '../plugins/plugin-host.js';

/** `dingops config check [file]`: validates core sections and every enabled plugin's slice. */
export async function configCheck(args: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const file = args.find((a) => !a.startsWith('-'));
  try {
    const config = loadConfig({ file });
    const plugins = await preparePlugins(config);
    const where = config.file ?? '(defaults, no config file)';
    out.write(`${where}: OK (mode ${config.core.dingtalk.mode}, storage ${config.core.storage.url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@')}, plugins: ${plugins.map((p) => p.def.name).join(', ') || 'none'})\n`);
    for (const p of config.literalSecretPaths) out.write(`warning: ${p} is written in the file; prefer \${ENV_VAR} so the secret stays out of the file\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
