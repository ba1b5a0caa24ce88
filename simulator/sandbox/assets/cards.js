// Draws one message the way DingTalk shows it: text, markdown, link, action card, or an
// interactive card from its template variables (the dingops template: title, status colour,
// markdown, fields, buttons, footer, mentions, and the streamed `stream` variable).
import { el } from './dom.js';
import { t } from './i18n.js';
import { renderMarkdown, renderText, safeUrl } from './markdown.js';

/** Status colours the dingops template knows; anything else is drawn grey. */
const COLOURS = new Set(['gray', 'blue', 'green', 'orange', 'red']);

/** Sets markdown HTML (escaped by construction) and applies <font color> colours, which the page's CSP keeps out of style attributes. */
function setHtml(node, html) {
  node.innerHTML = html;
  for (const span of node.querySelectorAll('[data-color]')) span.style.color = span.dataset.color;
  return node;
}

function parseJson(text, fallback) {
  try {
    const value = text ? JSON.parse(text) : fallback;
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

/**
 * `ctx`: { users: Map userId → user, botName, viewer (the selected user's id), click(message, button, node),
 * open(url) }.
 */
export function renderMessage(message, ctx) {
  const li = el('li', `msg ${message.sender === 'bot' ? 'from-bot' : 'from-user'}`);
  li.id = `m-${message.seq}`;
  li.dataset.seq = String(message.seq);
  const name = message.senderName || message.sender;
  const avatar = el('span', `avatar a${hash(message.sender) % 6}`, initials(name));
  avatar.setAttribute('aria-hidden', 'true');
  const body = el('div', 'bubble-wrap');
  const meta = el('div', 'meta');
  meta.append(el('span', 'sender', name));
  const time = el('time', '', new Date(message.at).toLocaleTimeString([], { hour12: false }));
  time.dateTime = new Date(message.at).toISOString();
  meta.append(time);
  if (message.via && message.via !== 'user') meta.append(el('span', 'via', message.via));
  body.append(meta, renderContent(message, ctx));
  li.append(avatar, body);
  return li;
}

function renderContent(message, ctx) {
  const mentions = mentionSet(message, ctx);
  switch (message.kind) {
    case 'card':
      return message.card ? interactiveCard(message, ctx, mentions) : actionCard(message, ctx, mentions);
    case 'actionCard':
    case 'link':
      return actionCard(message, ctx, mentions);
    case 'markdown':
      return setHtml(el('div', 'bubble md'), renderMarkdown(message.content, mentions));
    default: {
      const bubble = el('div', 'bubble text');
      if (message.atBot) {
        bubble.append(el('span', 'mention', `@${ctx.botName}`), ' ');
      }
      const span = el('span');
      setHtml(span, renderText(message.content, mentions));
      bubble.append(span);
      return bubble;
    }
  }
}

/** Who a message @mentions, by id and name (lower case), as its text writes them. */
function mentionSet(message, ctx) {
  const set = new Set();
  for (const id of message.atUserIds ?? []) {
    set.add(id.toLowerCase());
    const user = ctx.users.get(id);
    if (user) set.add(user.name.toLowerCase());
  }
  return set;
}

function actionCard(message, ctx, mentions) {
  const card = el('div', 'card action-card');
  if (message.title) card.append(el('div', 'card-title', message.title));
  card.append(setHtml(el('div', 'card-body md'), renderMarkdown(message.content, mentions)));
  if (message.buttons?.length) card.append(buttonRow(message, message.buttons, ctx));
  return card;
}

function interactiveCard(message, ctx, mentions) {
  const { templateId, params: shared, privateData, streaming } = message.card;
  // What the selected user sees: the card's data with their private data over it.
  const params = { ...shared, ...(privateData?.[ctx.viewer] ?? {}) };
  const card = el('div', 'card interactive');
  card.dataset.card = message.cardId;
  if (templateId !== 'dingops.default.schema') return unknownTemplate(card, templateId, params, streaming);
  const colour = COLOURS.has(params.color) ? params.color : 'gray';
  card.classList.add(`c-${colour}`);
  const header = el('div', 'card-header');
  header.append(el('span', 'card-title', params.title || ''));
  if (params.status && params.status !== 'neutral') header.append(el('span', 'card-status', params.status));
  card.append(header);
  const cardMentions = new Set(mentions);
  const mentioned = parseJson(params.mentions, []);
  for (const id of Array.isArray(mentioned) ? mentioned : []) {
    if (typeof id !== 'string') continue;
    cardMentions.add(id.toLowerCase());
    const user = ctx.users.get(id);
    if (user) cardMentions.add(user.name.toLowerCase());
  }
  if (params.markdown)
    card.append(setHtml(el('div', 'card-body md'), renderMarkdown(params.markdown, cardMentions)));
  const fields = parseJson(params.fields, []);
  if (Array.isArray(fields) && fields.length) {
    const dl = el('dl', 'card-fields');
    for (const f of fields) {
      if (!f || typeof f !== 'object') continue;
      dl.append(el('dt', '', String(f.label ?? '')));
      dl.append(setHtml(el('dd', 'md'), renderMarkdown(String(f.value ?? ''), cardMentions)));
    }
    card.append(dl);
  }
  for (const [key, s] of Object.entries(streaming ?? {})) card.append(streamBlock(key, s, cardMentions));
  const buttons = parseJson(params.buttons, []);
  if (Array.isArray(buttons) && buttons.length) card.append(buttonRow(message, buttons, ctx));
  if (params.footer)
    card.append(setHtml(el('div', 'card-footer md'), renderMarkdown(params.footer, cardMentions)));
  return card;
}

function streamBlock(key, s, mentions) {
  const block = el('div', `card-stream md${s.finalized ? ' done' : ' live'}${s.error ? ' failed' : ''}`);
  block.dataset.stream = key;
  setHtml(block, renderMarkdown(s.content, mentions));
  if (!s.finalized) block.append(el('span', 'stream-cursor', t('streaming')));
  return block;
}

/** Another template's card: its variables as they are (the sandbox does not know its layout). */
function unknownTemplate(card, templateId, params, streaming) {
  card.append(el('div', 'card-header', templateId));
  const dl = el('dl', 'card-fields');
  for (const [k, v] of Object.entries(params)) dl.append(el('dt', '', k), el('dd', '', v));
  for (const [k, s] of Object.entries(streaming ?? {})) dl.append(el('dt', '', k), el('dd', '', s.content));
  card.append(dl);
  return card;
}

function buttonRow(message, buttons, ctx) {
  const row = el('div', 'card-buttons');
  for (const b of buttons) {
    if (!b || typeof b !== 'object') continue;
    const button = el(
      'button',
      `btn ${b.style === 'primary' || b.style === 'danger' ? b.style : ''}`,
      String(b.text ?? ''),
    );
    button.type = 'button';
    if (b.type === 'callback' || b.params) {
      button.addEventListener('click', () => ctx.click(message, b, button));
    } else {
      const url = String(b.url ?? '');
      button.title = url;
      button.addEventListener('click', () => ctx.open(url, safeUrl(url)));
    }
    row.append(button);
  }
  return row;
}

function initials(name) {
  return [...String(name).trim()].slice(0, 2).join('').toUpperCase() || '?';
}

function hash(text) {
  let h = 0;
  for (const c of String(text)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}
