// Types of the page's catalog, for the test that compares its languages.
export const CATALOG: Record<'en' | 'zh-CN', Record<string, string>>;
