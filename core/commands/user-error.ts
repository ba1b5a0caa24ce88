/**
 * An error meant for the person who ran the command: its text (an i18n key with
 * variables, or fixed text) is shown to them as is. Anything else a handler throws is
 * logged in full and shown only as "internal error, ref <id>".
 */
export class UserError extends Error {
  constructor(
    readonly key: string,
    readonly vars: Record<string, unknown> = {},
  ) {
    super(key);
    this.name = 'UserError';
  }
}
