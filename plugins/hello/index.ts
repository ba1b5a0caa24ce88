import { card, defineCommand, definePlugin } from '../../core/index.js';

/**
 * The "write your first plugin" example (README). A `hello` command that greets and
 * counts, and a card button that people can click to wave back, updating the card in
 * place. Plugins outside this repository import from 'dingops' instead of the relative path.
 */
export default definePlugin({
  name: 'hello',
  description: 'Example plugin: a greeting with a card button',
  // The plugin's slice of bot.config.yaml (`plugins.hello`), validated at startup.
  config: (z) =>
    z.strictObject({
      greeting: z.string().min(1).default('Hello'),
      maxWaves: z.number().int().positive().default(100),
    }),
  i18n: {
    en: {
      description: 'Greet someone; they can wave back from the card',
      name: 'Who to greet (default: you)',
      greeted: '{greeting}, {name}!',
      count: 'Greetings from you so far: {count}',
      wave: 'Wave back',
      waves: 'Waves: {count}',
      tooMany: 'That card has had enough waves.',
    },
    'zh-CN': {
      description: '向某人问好；对方可以在卡片上挥手回应',
      name: '问候谁（默认：你自己）',
      greeted: '{greeting}，{name}！',
      count: '你已问候 {count} 次',
      wave: '挥手回应',
      waves: '挥手次数：{count}',
      tooMany: '这张卡片挥手次数已达上限。',
    },
  },
  setup(ctx) {
    const greetingCard = (name: string, count: number, waves: number) =>
      card({
        title: ctx.t('greeted', { greeting: ctx.config.greeting, name }),
        status: 'success',
        body: ctx.t('count', { count }),
        fields: [{ label: '👋', value: ctx.t('waves', { count: waves }) }],
        buttons: [
          {
            text: ctx.t('wave'),
            style: 'primary',
            action: { id: waveAction, params: { name } },
            command: `hello ${name}`,
          },
        ],
      });

    // A card action: clicking "Wave back" lands here, after the core's permission check.
    const waveAction = ctx.actions.register({
      name: 'wave',
      handler: async ({ action, params }) => {
        const key = `waves:${action.cardId}`;
        const waves = ((await ctx.store.kv.get<number>(key)) ?? 0) + 1;
        if (waves > ctx.config.maxWaves) return { message: ctx.t('tooMany') };
        await ctx.store.kv.set(key, waves, { ttlMs: 7 * 86_400_000 });
        const count = (await ctx.store.kv.get<number>(`count:${action.user.userId}`)) ?? 0;
        return { card: greetingCard(params.name ?? '?', count, waves) };
      },
    });

    ctx.commands.register(
      defineCommand({
        name: 'hello',
        aliases: ['hi', '你好'],
        description: { key: 'hello.description' },
        args: [{ name: 'name', type: 'rest', required: false, description: { key: 'hello.name' } }],
        examples: ['hello', 'hello world'],
        handler: async ({ args, caller }) => {
          const key = `count:${caller.userId}`;
          const count = ((await ctx.store.kv.get<number>(key)) ?? 0) + 1;
          await ctx.store.kv.set(key, count);
          return greetingCard(args.name ?? caller.nick, count, 0);
        },
      }),
    );
  },
});
