import { field, obj } from '../json-fields.js';
import type { MessageKind, SimButton } from '../state.js';

export interface Rendered {
  kind: MessageKind;
  title?: string;
  content: string;
  buttons: SimButton[];
}

/** Renders an OpenAPI robot message (`msgKey` + parsed `msgParam`), docs/dingtalk-protocol.md §5.3. Throws a message for unknown keys. */
export function renderRobotMessage(msgKey: string, p: Record<string, unknown>): Rendered {
  const s = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : '');
  switch (msgKey) {
    case 'sampleText':
      return { kind: 'text', content: s('content'), buttons: [] };
    case 'sampleMarkdown':
      return { kind: 'markdown', title: s('title'), content: s('text'), buttons: [] };
    case 'sampleLink':
      return {
        kind: 'link',
        title: s('title'),
        content: s('text'),
        buttons: [{ text: s('title'), type: 'link', url: s('messageUrl') }],
      };
    case 'sampleActionCard':
      return {
        kind: 'actionCard',
        title: s('title'),
        content: s('text'),
        buttons: [{ text: s('singleTitle'), type: 'link', url: s('singleURL') }],
      };
    default: {
      const m = /^sampleActionCard([2-6])$/.exec(msgKey);
      if (!m) throw new Error(`unsupported msgKey ${msgKey}`);
      const buttons: SimButton[] = [];
      for (let i = 1; i <= 5; i++) {
        const title = s(`actionTitle${i}`) || s(`buttonTitle${i}`);
        const url = s(`actionURL${i}`) || s(`buttonUrl${i}`);
        if (title) buttons.push({ text: title, type: 'link', url });
      }
      return { kind: 'actionCard', title: s('title'), content: s('text'), buttons };
    }
  }
}

/** Renders a custom-robot / sessionWebhook body (`msgtype` + its object), docs/dingtalk-protocol.md §5.4. */
export function renderWebhookMessage(body: Record<string, unknown>): Rendered {
  switch (body.msgtype) {
    case 'text':
      return { kind: 'text', content: String(field(body, 'text', 'content') ?? ''), buttons: [] };
    case 'markdown':
      return {
        kind: 'markdown',
        title: String(field(body, 'markdown', 'title') ?? ''),
        content: String(field(body, 'markdown', 'text') ?? ''),
        buttons: [],
      };
    case 'actionCard': {
      const a = obj(body.actionCard);
      const buttons: SimButton[] = a.singleTitle
        ? [{ text: String(a.singleTitle), type: 'link', url: String(a.singleURL ?? '') }]
        : (Array.isArray(a.btns) ? a.btns : []).map((b) => ({
            text: String(field(b, 'title') ?? ''),
            type: 'link' as const,
            url: String(field(b, 'actionURL') ?? ''),
          }));
      return { kind: 'actionCard', title: String(a.title ?? ''), content: String(a.text ?? ''), buttons };
    }
    case 'link':
      return {
        kind: 'link',
        title: String(field(body, 'link', 'title') ?? ''),
        content: String(field(body, 'link', 'text') ?? ''),
        buttons: [
          {
            text: String(field(body, 'link', 'title') ?? ''),
            type: 'link',
            url: String(field(body, 'link', 'messageUrl') ?? ''),
          },
        ],
      };
    default:
      throw new Error(`unsupported msgtype ${String(body.msgtype)}`);
  }
}

/**
 * Renders an interactive card for the simulator's conversation view. The dingops template
 * (`dingops.default.schema`) is known: title, markdown, fields and buttons variables. Other
 * templates show their variables.
 */
export function renderCard(
  templateId: string,
  params: Record<string, string>,
  streaming: Record<string, { content: string }>,
): Rendered {
  const json = <T>(v: string | undefined, fallback: T): T => {
    try {
      return v ? (JSON.parse(v) as T) : fallback;
    } catch {
      return fallback;
    }
  };
  if (templateId === 'dingops.default.schema') {
    const fields = json<Array<{ label: string; value: string }>>(params.fields, []);
    const buttons = json<
      Array<{ text: string; type: 'callback' | 'link'; url?: string; params?: Record<string, string> }>
    >(params.buttons, []);
    const streamed = Object.values(streaming).map((s) => s.content);
    const content = [params.markdown ?? '', ...fields.map((f) => `- **${f.label}**: ${f.value}`), ...streamed]
      .filter(Boolean)
      .join('\n');
    return {
      kind: 'card',
      title: params.title ?? '',
      content,
      buttons: buttons.map((b) => ({ text: b.text, type: b.type, url: b.url, params: b.params })),
    };
  }
  const content = [
    ...Object.entries(params).map(([k, v]) => `${k}: ${v}`),
    ...Object.entries(streaming).map(([k, v]) => `${k}: ${v.content}`),
  ].join('\n');
  return { kind: 'card', title: templateId, content, buttons: [] };
}
