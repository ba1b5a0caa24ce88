import type { InjectionToken } from 'tsyringe';

/**
 * A DI token for one service, declared next to the service it names. esbuild (vitest, tsx)
 * emits no decorator metadata, so every injectable names its constructor parameters with
 * `@inject(XToken)`. `Symbol.for` keeps a token the same symbol across module copies.
 */
export function token<T>(name: string): InjectionToken<T> & symbol {
  return Symbol.for(`dingops.${name}`) as InjectionToken<T> & symbol;
}
