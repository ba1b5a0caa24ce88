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

/**
 * A refusal decided by a plugin (who may do this to this thing): shown like a UserError,
 * audited as `denied` rather than `error`.
 */
export class PermissionDenied extends UserError {
  constructor(key: string, vars: Record<string, unknown> = {}) {
    super(key, vars);
    this.name = 'PermissionDenied';
  }
}
