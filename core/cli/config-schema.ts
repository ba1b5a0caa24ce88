import { readdirSync } from 'node:fs';
import { loadConfig } from '../config/load-config.js';
import type { PluginDefinition } from '../plugins/define-plugin.js';
import { BUILTIN_PLUGIN_DIR, importPlugin } from '../plugins/plugin-resolver.js';
import { configJsonSchema } from './config-json-schema.js';

/** `dingops config schema`: JSON Schema of core sections plus built-in and configured plugins. */
export async function configSchema(
  _args: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const defs = new Map<string, PluginDefinition>();
  let names: string[] = [];
  try {
    names = readdirSync(BUILTIN_PLUGIN_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    // No built-in plugins folder (unusual install): core schema only.
  }
  for (const name of names) {
    try {
      defs.set(name, await importPlugin(name, undefined, process.cwd()));
    } catch {
      // A folder that is not a plugin.
    }
  }
  try {
    const config = loadConfig();
    for (const entry of config.plugins) {
      if (defs.has(entry.name)) continue;
      try {
        defs.set(entry.name, await importPlugin(entry.name, entry.from, config.baseDir));
      } catch {
        // Reported by `config check`; the schema still covers the rest.
      }
    }
  } catch {
    // No or invalid config: built-ins only.
  }
  out.write(`${JSON.stringify(configJsonSchema([...defs.values()]), null, 2)}\n`);
  return 0;
}
