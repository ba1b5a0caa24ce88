import type { AxiosStatic } from 'axios';

/**
 * What the `dingtalk-stream` SDK gets for `import axios from 'axios'` in the built bundle
 * (deploy/bundle.mjs points the SDK's import here; nothing else's). The SDK calls axios in
 * two places only, `getEndpoint` and `getAccessToken`, and ConfigurableDWClient overrides
 * both; yet importing axios costs an idle bot ~4 MB it never uses: mime-db's table, and a
 * probe of `fetch` at import that loads Node's undici, http2 and zlib. So axios loads the
 * first time the SDK calls it, and whatever the SDK calls behaves as axios itself would.
 * In development (tsx) the SDK imports axios as usual.
 */
let loading: Promise<AxiosStatic> | undefined;
const load = (): Promise<AxiosStatic> => {
  loading ??= import('axios').then((m) => m.default);
  return loading;
};

type Call = (...args: unknown[]) => Promise<unknown>;
const METHODS = ['request', 'get', 'delete', 'head', 'options', 'post', 'put', 'patch'] as const;

const sdkAxios = ((...args: unknown[]) =>
  load().then((axios) => (axios as unknown as Call)(...args))) as Call &
  Record<(typeof METHODS)[number], Call>;
for (const method of METHODS)
  sdkAxios[method] = (...args) => load().then((axios) => (axios[method] as unknown as Call)(...args));

export default sdkAxios;
