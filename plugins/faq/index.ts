import { isAbsolute, resolve } from 'node:path';
import { card, checkLine, definePlugin, type Locale } from 'dingops';
import { z } from 'zod';
import { FaqSearch, questionLocale } from './faq-search.js';
import { faqCatalogs } from './i18n.js';
import { BUILTIN_FAQ, type FaqEntry, loadKnowledgeBase } from './knowledge-base.js';

/**
 * FAQ diagnostics (README, "FAQ and doctor"): setup questions answered from a knowledge
 * base (shipped in both languages, extended by the operator), each entry tied to the
 * `doctor` check that confirms it live.
 */
/** How good a match free text (no `faq` in front) needs: a question, not a stray word. */
const FREE_TEXT_MIN_SCORE = 40;

export default definePlugin({
  name: 'faq',
  description: { en: 'Setup questions and live checks', 'zh-CN': '配置问答与实时检查' },
  config: z.strictObject({
    files: z
      .array(z.string())
      .default([])
      .describe('more FAQ files (YAML, same shape as plugins/faq/faq.yaml)'),
  }),
  i18n: faqCatalogs,
  setup(ctx) {
    const baseDir = ctx.configDir;
    const files = [BUILTIN_FAQ, ...ctx.config.files.map((f) => (isAbsolute(f) ? f : resolve(baseDir, f)))];
    const faq = new FaqSearch(loadKnowledgeBase(files));
    const diagnostics = ctx.diagnostics;

    const entryCard = async (e: FaqEntry, locale: Locale, isAdmin: boolean, others: FaqEntry[] = []) => {
      const t = (k: string, v?: Record<string, unknown>) => ctx.t(k, v, locale);
      const text = e[locale];
      let live: string[] = [];
      let failing = false;
      if (e.doctor) {
        // The live check is the admins' (it describes the deployment); others get the hint.
        if (isAdmin) {
          const results = await diagnostics.run({ only: [e.doctor], locale });
          failing = results.some((r) => r.severity === 'error');
          live = results.map((r) => checkLine(r, (k) => t(k)));
        } else live = [t('liveHint', { check: e.doctor })];
      }
      return card({
        title: text.title,
        status: failing ? 'danger' : 'info',
        fields: [
          { label: t('symptom'), value: text.symptom },
          { label: t('check'), value: text.check },
          { label: t('fix'), value: text.fix },
        ],
        sections: [
          ...(live.length ? [{ title: t('live'), items: live }] : []),
          ...(others.length
            ? [
                {
                  items: [
                    t('also', { list: others.map((o) => `\`faq ${o.id}\` ${o[locale].title}`).join('; ') }),
                  ],
                },
              ]
            : []),
        ],
        footer: `faq ${e.id}`,
      });
    };

    // A question asked in a direct message without `faq` in front: answered when one entry
    // clearly fits (a weak match passes on, and the sender gets "unknown command" with help).
    ctx.messages.fallback(async (m, next) => {
      if (m.message.conversation.type !== 'direct') return next();
      const question = m.message.text.trim();
      const [best, ...others] = faq.search(question);
      if (!best || best.score < FREE_TEXT_MIN_SCORE) return next();
      const locale = questionLocale(question, m.locale);
      await m.reply(
        await entryCard(
          best.entry,
          locale,
          m.caller.isAdmin,
          others.map((h) => h.entry),
        ),
      );
    });

    ctx.commands.register({
      name: 'faq',
      aliases: ['问答', '常见问题'],
      description: 'faq.cmd.faq',
      args: [{ name: 'question', type: 'rest', required: false, description: 'faq.arg.question' }],
      examples: [
        'faq the bot does not answer in my group',
        'faq 机器人在群里不回复',
        'faq person-not-linked',
      ],
      handler: async (c) => {
        const question = String(c.args.question ?? '').trim();
        if (!question) return c.t('faq.usage');
        const locale = questionLocale(question, c.locale);
        const exact = faq.get(question.toLowerCase());
        if (exact) return entryCard(exact, locale, c.caller.isAdmin);
        const [best, ...others] = faq.search(question);
        if (!best) return ctx.t('noMatch', {}, locale);
        return entryCard(
          best.entry,
          locale,
          c.caller.isAdmin,
          others.map((h) => h.entry),
        );
      },
      subcommands: [
        {
          name: 'list',
          description: 'faq.cmd.list',
          handler: (c) =>
            card({
              title: c.t('faq.listTitle', { count: faq.all().length }),
              status: 'info',
              sections: [{ items: faq.all().map((e) => `\`${e.id}\` ${e[c.locale].title}`) }],
            }),
        },
      ],
    });
  },
});
