import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

const text = z.string().min(1);
const localized = z.strictObject({
  title: text,
  keywords: z.array(z.string()).default([]),
  symptom: text,
  check: text.describe('the fastest way to confirm it'),
  fix: text,
});

const entrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'ids are lower-case words joined by -'),
  /** The `doctor` check that confirms it live (an id or id prefix). */
  doctor: z.string().optional(),
  en: localized,
  'zh-CN': localized,
});

export type FaqEntry = z.output<typeof entrySchema>;
export type FaqText = z.output<typeof localized>;

/** The FAQ shipped with the plugin. */
export const BUILTIN_FAQ = fileURLToPath(new URL('./faq.yaml', import.meta.url));

/**
 * Reads FAQ files (the shipped one first, then the operator's): a later entry with the same
 * id replaces the earlier one. A malformed file is an error naming the file and the entry.
 */
export function loadKnowledgeBase(files: string[]): FaqEntry[] {
  const byId = new Map<string, FaqEntry>();
  for (const file of files) {
    let raw: unknown;
    try {
      raw = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`FAQ file ${file}: ${(err as Error).message}`);
    }
    if (!Array.isArray(raw)) throw new Error(`FAQ file ${file}: expected a list of entries`);
    raw.forEach((item, i) => {
      const r = entrySchema.safeParse(item);
      if (!r.success) {
        const issue = r.error.issues[0];
        throw new Error(
          `FAQ file ${file}, entry ${i + 1}${issue?.path.length ? ` (${issue.path.join('.')})` : ''}: ${issue?.message ?? 'invalid'}`,
        );
      }
      byId.set(r.data.id, r.data);
    });
  }
  return [...byId.values()];
}
