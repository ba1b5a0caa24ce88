import { ConfigError, shownPath } from '../config/config-error.js';
import { type LoadedConfig, loadConfig } from '../config/load-config.js';
import { formatOrigins, valueOrigins } from '../config/provenance.js';
import { preparePlugins } from '../plugins/plugin-host.js';

/** `dingops config check [file]`: validates core sections and every enabled plugin's slice. */
export async function configCheck(
  args: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const file = args.find((a) => !a.startsWith('-'));
  try {
    const config = loadConfig({ file });
    const plugins = await preparePlugins(config);
    const where = config.file ? shownPath(config.file) : '(defaults, no config file)';
    out.write(
      `${where}: OK (mode ${config.core.dingtalk.mode}, storage ${config.core.storage.url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@')}, plugins: ${plugins.map((p) => p.def.name).join(', ') || 'none'})\n`,
    );
    out.write(`Effective values (and where each came from):\n${formatOrigins(valueOrigins(config))}\n`);
    for (const p of config.literalSecretPaths)
      out.write(
        `warning: ${p} is written in the file; prefer \${ENV_VAR} so the secret stays out of the file\n`,
      );
    for (const p of config.shortSecretPaths)
      out.write(
        `warning: ${p} is shorter than 12 characters: a word, not a secret (guessable, and the log can mask it only where it stands as a value); use a long random one\n`,
      );
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      let problems = e.problems;
      if (e.partial) {
        // Core sections are invalid; still check the plugins so every problem shows at once
        // (a value an unset ${VAR} left empty is already reported as the variable).
        const unset = new Set((e.partial as { unsetPaths?: string[] }).unsetPaths ?? []);
        try {
          await preparePlugins(e.partial as LoadedConfig);
        } catch (pe) {
          if (!(pe instanceof ConfigError)) throw pe;
          problems = [
            ...problems,
            ...pe.problems.filter((p) => ![...unset].some((u) => u === p.path || u.startsWith(`${p.path}.`))),
          ];
        }
      }
      err.write(`${new ConfigError(problems, e.file).message}\n`);
      return 1;
    }
    throw e;
  }
}
