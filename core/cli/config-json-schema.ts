import { z } from 'zod';
import { coreSchema } from '../config/core-schema.js';
import { type PluginDefinition, pluginSchema } from '../plugins/define-plugin.js';

/** The parts of a JSON Schema document this merge touches. */
type JsonSchema = Record<string, unknown> & { properties: Record<string, unknown> };

/**
 * JSON Schema of the whole config file, for editor completion (yaml-language-server:
 * `# yaml-language-server: $schema=./dingops.schema.json`). Each known plugin's schema
 * is merged into `plugins.<name>` beside the loader keys.
 */
export function configJsonSchema(plugins: PluginDefinition[]): Record<string, unknown> {
  const root = z.toJSONSchema(coreSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema;
  const loader = {
    from: {
      type: 'string',
      description: 'Local path or npm package; defaults to the built-in plugin of that name',
    },
    enabled: { type: 'boolean', default: true },
    required: {
      type: 'boolean',
      default: false,
      description: 'Stop the bot when this plugin fails to start',
    },
  };
  const pluginProps: Record<string, unknown> = {};
  for (const def of plugins) {
    const s = z.toJSONSchema(pluginSchema(def), {
      io: 'input',
      unrepresentable: 'any',
      target: 'draft-2020-12',
    }) as JsonSchema;
    pluginProps[def.name] = {
      type: ['object', 'null'],
      description: typeof def.description === 'string' ? def.description : undefined,
      properties: { ...loader, ...(s.properties ?? {}) },
      additionalProperties: false,
    };
  }
  root.properties.plugins = {
    type: 'object',
    description: 'Plugins to run, by name; each entry holds loader keys and the plugin’s own config',
    properties: pluginProps,
    additionalProperties: { type: ['object', 'null'], properties: loader },
  };
  root.$id = 'https://dingops.dev/bot.config.schema.json';
  root.title = 'dingops bot.config.yaml';
  return root;
}
