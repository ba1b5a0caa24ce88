/**
 * The sandbox page's files, inlined by the build (`deploy/bundle.mjs` replaces this module
 * with their text, so a built package needs no files beside its chunks). From the sources
 * it is empty and the files are read from `./assets/`, fresh on every request.
 */
export const INLINED_ASSETS: Record<string, string> | undefined = undefined;
