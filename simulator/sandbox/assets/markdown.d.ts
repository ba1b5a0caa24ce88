// Types of the page's markdown renderer, for the tests that import it (the page itself is plain JavaScript).
export function escapeHtml(text: string): string;
export function safeUrl(url: string): string | undefined;
export function renderInline(text: string, mentions?: Set<string>, depth?: number): string;
export function renderMarkdown(text: string, mentions?: Set<string>): string;
export function renderText(text: string, mentions?: Set<string>): string;
