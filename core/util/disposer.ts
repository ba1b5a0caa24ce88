/**
 * Undoes one registration (a command, a route, a listener...). Every registry returns one, and
 * a plugin's scope collects them, so stopping a plugin undoes exactly what it registered
 * without the host knowing the registries (Koishi's `ctx.collect`).
 */
export type Disposer = () => void;
