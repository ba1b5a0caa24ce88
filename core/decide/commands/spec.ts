import type { OutboundContent } from '../../cards/card.js';
import type { SendOptions, SendReceipt } from '../../deliver/messenger.js';
import type { I18nText, Locale } from '../../i18n/i18n.js';
import type { InboundMessage } from '../../messages/inbound.js';

export type ValueType = 'string' | 'int' | 'number' | 'duration' | 'enum' | 'user' | 'boolean' | 'rest';

/** A positional argument or an option value. */
export interface ValueSpec {
  name: string;
  type: ValueType;
  description?: I18nText;
  /** Positionals are required unless `required: false` or a default is given. */
  required?: boolean;
  default?: unknown;
  /** For `enum`. */
  choices?: readonly string[];
  /** Inclusive bounds: number value, or milliseconds for `duration`. */
  min?: number;
  max?: number;
  /** For `string`: the whole value must match. */
  pattern?: RegExp;
  maxLength?: number;
  /** The last positional may take every remaining token (a `string[]` etc.). */
  variadic?: boolean;
  /** Shown as `***` in the audit log and logs. */
  secret?: boolean;
}

export interface OptionSpec extends ValueSpec {
  /** One-letter alias: `-n 5`. */
  short?: string;
}

export type ConversationKind = 'direct' | 'group';

/** Who is asking, as the permission layer sees them. */
export interface Caller {
  userId: string;
  nick: string;
  roles: ReadonlySet<string>;
  isAdmin: boolean;
}

export interface CommandContext<A = Record<string, unknown>> {
  args: A;
  message: InboundMessage;
  caller: Caller;
  /** The command path that matched, e.g. `alerts silence add`. */
  command: string;
  locale: Locale;
  t: (key: string, vars?: Record<string, unknown>) => string;
  /** Sends a reply now (the handler's return value is also sent as a reply). */
  reply(content: OutboundContent, options?: SendOptions): Promise<SendReceipt>;
}

export type CommandResult = OutboundContent | undefined | void;

export interface CommandSpec<
  A extends readonly ValueSpec[] = readonly ValueSpec[],
  O extends readonly OptionSpec[] = readonly OptionSpec[],
> {
  name: string;
  aliases?: readonly string[];
  description: I18nText;
  args?: A;
  options?: O;
  /** Full example command lines, shown in help. */
  examples?: readonly string[];
  /** Any of these roles may run it; admins always may. Empty or missing: everyone. */
  roles?: readonly string[];
  /** Where it may run; default both. */
  allowIn?: readonly ConversationKind[];
  /** The command changes something (audited as such, eligible for confirmation). */
  sideEffects?: boolean;
  /** Ask before running unless `--yes` is given. */
  confirm?: boolean | I18nText;
  // biome-ignore lint/suspicious/noExplicitAny: subcommands have argument shapes of their own (see AnyCommandSpec)
  subcommands?: readonly CommandSpec<any, any>[];
  hidden?: boolean;
  handler?: (ctx: CommandContext<ArgsOf<A, O>>) => CommandResult | Promise<CommandResult>;
}

/**
 * A command of whatever arguments, as the registry stores it: a handler takes its own
 * argument types, and function parameters are contravariant, so only `any` erases them.
 */
// biome-ignore lint/suspicious/noExplicitAny: erases each handler's own argument types for storage (see above)
export type AnyCommandSpec = CommandSpec<any, any>;

type BaseValue<S> = S extends { type: 'int' | 'number' | 'duration' }
  ? number
  : S extends { type: 'boolean' }
    ? boolean
    : S extends { type: 'enum'; choices: readonly (infer C)[] }
      ? C
      : string;
type ValueOf<S> = S extends { variadic: true } ? BaseValue<S>[] : BaseValue<S>;
type HasValue<S> = S extends { default: {} }
  ? true
  : S extends { type: 'boolean' }
    ? true
    : S extends { variadic: true }
      ? true
      : false;
type ArgIsOptional<S> = HasValue<S> extends true ? false : S extends { required: false } ? true : false;
type OptIsOptional<S> = HasValue<S> extends true ? false : S extends { required: true } ? false : true;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type ArgsOf<A extends readonly ValueSpec[], O extends readonly OptionSpec[]> = Simplify<
  { [S in A[number] as ArgIsOptional<S> extends true ? never : S['name']]: ValueOf<S> } & {
    [S in A[number] as ArgIsOptional<S> extends true ? S['name'] : never]?: ValueOf<S>;
  } & { [S in O[number] as OptIsOptional<S> extends true ? never : S['name']]: ValueOf<S> } & {
    [S in O[number] as OptIsOptional<S> extends true ? S['name'] : never]?: ValueOf<S>;
  }
>;

/** Declares a command; argument and option types flow into the handler's `ctx.args`. */
export function defineCommand<
  const A extends readonly ValueSpec[] = [],
  const O extends readonly OptionSpec[] = [],
>(spec: CommandSpec<A, O>): CommandSpec<A, O> {
  return spec;
}
