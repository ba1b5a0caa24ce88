// The sandbox page: conversations on the left, the open one in the middle with a composer,
// the DingTalk side on the right. Everything it shows comes from the simulator: a first
// picture from /sim/sandbox/state, then live events; everything it does goes through the
// simulator's own /sim/api, as a test would.
import { renderMessage } from './cards.js';
import { el } from './dom.js';
import { chooseLanguage, LANGUAGES, lang, t, translatePage } from './i18n.js';
import { Panel } from './panel.js';

/**
 * Messages one page of history brings, and the most the open conversation keeps drawn: older
 * ones come back with "Show earlier messages", so a long conversation costs the page no more
 * than a short one.
 */
const PAGE = 100;
const MAX_DRAWN = 300;

const $ = (selector) => document.querySelector(selector);

const view = {
  users: new Map(),
  conversations: [],
  /** The open conversation's id. */
  open: undefined,
  /** Unread messages per conversation. */
  unread: new Map(),
  botName: 'bot',
};

const notice = $('#notice');
let noticeTimer;
function notify(text, kind = 'info') {
  notice.textContent = text;
  notice.className = kind;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.textContent = '';
  }, 8000);
}

async function api(method, path, body) {
  try {
    const res = await fetch(`/sim/api${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      notify(t('notice.refused', { error: data.error ?? data.message ?? res.status }), 'error');
      return undefined;
    }
    return data;
  } catch (err) {
    notify(t('notice.down', { error: err.message }), 'error');
    return undefined;
  }
}

const panel = new Panel($('#dingtalk'), api, notify);

// ---- conversations ----------------------------------------------------------------------

function conversation(id) {
  return view.conversations.find((c) => c.id === id);
}

function drawConversations() {
  const groups = $('#groups');
  const dms = $('#dms');
  const items = (list) =>
    list.map((c) => {
      const li = el('li');
      const a = el('a', '', c.title);
      a.href = `#/c/${encodeURIComponent(c.id)}`;
      if (c.id === view.open) a.setAttribute('aria-current', 'page');
      li.append(a);
      if (c.kind === 'scene') li.append(tag('scene', t('scene')));
      const unread = view.unread.get(c.id) ?? 0;
      if (unread > 0) li.append(tag('unread', t('unread', { n: unread })));
      return li;
    });
  groups.replaceChildren(...items(view.conversations.filter((c) => c.kind !== 'dm')));
  dms.replaceChildren(...items(view.conversations.filter((c) => c.kind === 'dm')));
}

function tag(className, text) {
  return el('span', `tag ${className}`, text);
}

// ---- the open conversation --------------------------------------------------------------

const list = $('#messages');
const timeline = $('#timeline');
const earlier = $('#earlier');
/** Sequence number of the oldest message drawn (older ones load on request). */
let oldestDrawn = 0;

function ctx() {
  return {
    users: view.users,
    botName: view.botName,
    viewer: $('#speaker').value,
    click,
    open: (url, safe) => {
      if (safe) window.open(safe, '_blank', 'noopener');
      else notify(t('notice.opens', { url }));
    },
  };
}

/** The message each drawn node shows, to draw it again (for another viewer) without asking. */
const drawnMessages = new WeakMap();

function draw(m, c = ctx()) {
  const node = renderMessage(m, c);
  drawnMessages.set(node, m);
  return node;
}

function atBottom() {
  return timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 48;
}

async function openConversation(id) {
  const c = conversation(id);
  if (!c) return;
  view.open = id;
  view.unread.delete(id);
  drawConversations();
  $('#conversation-title').textContent = c.title;
  const members = c.members.map((m) => view.users.get(m)?.name ?? m);
  $('#conversation-meta').textContent =
    c.kind === 'dm'
      ? t('meta.dm', { user: members[0], bot: view.botName })
      : t(c.kind === 'scene' ? 'meta.scene' : 'meta.group', { members: members.join(', ') }) +
        (c.botHere ? '' : t('meta.botAway', { bot: view.botName }));
  drawComposer(c);
  list.replaceChildren();
  oldestDrawn = 0;
  const page = await fetchPage(id, 0);
  if (view.open !== id || !page) return;
  // Messages that arrived live while the page was on its way and are newer than it stay.
  const newest = page.messages.at(-1)?.seq ?? 0;
  const arrived = [...list.children].filter((node) => Number(node.dataset.seq) > newest);
  const drawing = ctx();
  list.replaceChildren(...page.messages.map((m) => draw(m, drawing)), ...arrived);
  oldestDrawn = page.messages[0]?.seq ?? 0;
  earlier.hidden = !page.more;
  timeline.scrollTop = timeline.scrollHeight;
}

async function fetchPage(id, before) {
  try {
    const res = await fetch(
      `/sim/sandbox/messages?conversation=${encodeURIComponent(id)}&before=${before}&limit=${PAGE}`,
    );
    if (!res.ok) throw new Error(String(res.status));
    return await res.json();
  } catch (err) {
    notify(t('notice.load', { error: err.message }), 'error');
    return undefined;
  }
}

earlier.addEventListener('click', async () => {
  // One page at a time: a second click while one loads would ask for the same page again
  // and draw its messages twice.
  if (earlier.disabled) return;
  earlier.disabled = true;
  try {
    await loadEarlier();
  } finally {
    earlier.disabled = false;
  }
});

async function loadEarlier() {
  const id = view.open;
  const page = await fetchPage(id, oldestDrawn);
  if (view.open !== id || !page) return;
  const height = timeline.scrollHeight;
  const drawing = ctx();
  list.prepend(...page.messages.map((m) => draw(m, drawing)));
  oldestDrawn = page.messages[0]?.seq ?? oldestDrawn;
  earlier.hidden = !page.more;
  // Stay at the message that was on top.
  timeline.scrollTop += timeline.scrollHeight - height;
}

// Live messages and redraws are applied once per frame: a burst (a flood of alerts, a chatty
// task) costs one layout, not one per message.
const incoming = { messages: [], updates: new Map(), scheduled: false };

function onMessage(m) {
  incoming.messages.push(m);
  schedule();
}

function onUpdate(m) {
  incoming.updates.set(m.seq, m);
  schedule();
}

function schedule() {
  if (incoming.scheduled) return;
  incoming.scheduled = true;
  requestAnimationFrame(applyIncoming);
}

function applyIncoming() {
  incoming.scheduled = false;
  const messages = incoming.messages.splice(0);
  const updates = [...incoming.updates.values()];
  incoming.updates.clear();
  const stick = atBottom();
  let sidebar = false;
  const fresh = [];
  for (const m of messages) {
    if (m.conversation !== view.open) {
      view.unread.set(m.conversation, (view.unread.get(m.conversation) ?? 0) + 1);
      sidebar = true;
    } else if (!document.getElementById(`m-${m.seq}`)) fresh.push(m);
  }
  // A burst larger than a page replaces what is drawn with its newest page (the rest is a
  // "Show earlier messages" away): a frame never draws more than one page.
  const drawn = fresh.slice(-PAGE);
  if (fresh.length > PAGE) {
    list.replaceChildren();
    earlier.hidden = false;
    oldestDrawn = drawn[0].seq;
  }
  if (drawn.length) {
    const drawing = ctx();
    list.append(...drawn.map((m) => draw(m, drawing)));
  }
  // A long-open conversation keeps a bounded page: what scrolls away can be loaded again. Not
  // while someone reads further up (history they asked for stays until they come back down).
  if (stick && list.childElementCount > MAX_DRAWN) {
    while (list.childElementCount > MAX_DRAWN) list.firstElementChild.remove();
    oldestDrawn = Number(list.firstElementChild.dataset.seq);
    earlier.hidden = false;
  }
  if (updates.length) {
    const drawing = ctx();
    for (const m of updates) document.getElementById(`m-${m.seq}`)?.replaceWith(draw(m, drawing));
  }
  if (sidebar) drawConversations();
  if (stick) timeline.scrollTop = timeline.scrollHeight;
}

// ---- composer and card buttons ----------------------------------------------------------

function drawComposer(c) {
  const speaker = $('#speaker');
  const previous = speaker.value;
  speaker.replaceChildren(
    ...c.members.map((id) => {
      const option = el('option', '', view.users.get(id)?.name ?? id);
      option.value = id;
      return option;
    }),
  );
  if (c.members.includes(previous)) speaker.value = previous;
  speaker.disabled = c.kind === 'dm';
  const atBot = $('#at-bot');
  atBot.checked = c.kind !== 'dm';
  $('#at-bot-field').hidden = c.kind === 'dm';
}

$('#composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const c = conversation(view.open);
  const box = $('#message');
  const text = box.value;
  if (!c || !text.trim()) return;
  const r = await api('POST', '/messages', {
    conversation: c.kind === 'dm' ? null : c.id,
    sender: $('#speaker').value,
    text,
    atBot: c.kind === 'dm' ? true : $('#at-bot').checked,
  });
  if (!r) return;
  box.value = '';
  if (!r.delivered)
    notify(t(c.kind !== 'dm' && !$('#at-bot').checked ? 'notice.notMentioned' : 'notice.notDelivered'));
});

$('#message').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $('#composer').requestSubmit();
  }
});

$('#speaker').addEventListener('change', () => {
  // Cards with private data look different to each user: draw them again for this one.
  const drawing = ctx();
  for (const node of list.querySelectorAll('[data-card]')) {
    const li = node.closest('li');
    const m = drawnMessages.get(li);
    if (m) li.replaceWith(draw(m, drawing));
  }
});

async function click(message, button, node) {
  const user = $('#speaker').value;
  node.disabled = true;
  node.setAttribute('aria-busy', 'true');
  const r = await api('POST', `/cards/${encodeURIComponent(message.cardId)}/actions`, {
    sender: user,
    params: button.params ?? {},
  });
  node.disabled = false;
  node.removeAttribute('aria-busy');
  if (r && !r.responded)
    notify(t('notice.noAnswer', { bot: view.botName, user: view.users.get(user)?.name ?? user }), 'error');
}

// ---- live feed --------------------------------------------------------------------------

let refreshing;
/** Conversations, app, faults: asked for again when the simulator says they changed (coalesced). */
function refreshState() {
  refreshing ??= new Promise((resolve) => setTimeout(resolve, 50)).then(async () => {
    refreshing = undefined;
    const state = await fetchState();
    if (state) applyState(state, false);
  });
  return refreshing;
}

async function fetchState() {
  try {
    const res = await fetch('/sim/sandbox/state');
    if (!res.ok) throw new Error(String(res.status));
    return await res.json();
  } catch (err) {
    notify(t('notice.down', { error: err.message }), 'error');
    return undefined;
  }
}

function applyState(state, withCalls) {
  view.users = new Map(state.users.map((u) => [u.userId, u]));
  view.conversations = state.conversations;
  view.botName = state.apps[0]?.name ?? 'bot';
  $('#corp').textContent = state.corpId;
  drawConversations();
  panel.show(state);
  if (withCalls) panel.setCalls(state.calls);
  const open = conversation(view.open);
  if (open) {
    $('#conversation-title').textContent = open.title;
    if (open.members.length !== $('#speaker').options.length) drawComposer(open);
  }
}

function route() {
  const m = /^#\/c\/(.+)$/.exec(location.hash);
  const id = m ? decodeURIComponent(m[1]) : undefined;
  const target = conversation(id) ?? view.conversations[0];
  if (target && target.id !== view.open) void openConversation(target.id);
}

window.addEventListener('hashchange', route);

function connect() {
  const events = new EventSource('/sim/sandbox/events');
  const on = (name, handle) => events.addEventListener(name, (e) => handle(JSON.parse(e.data)));
  on('message', onMessage);
  on('update', onUpdate);
  on('call', (c) => panel.addCall(c));
  on('changed', () => void refreshState());
  // On every (re)connection: the whole picture again, since events may have been missed.
  events.addEventListener('open', async () => {
    $('#live').textContent = t('live.on');
    const state = await fetchState();
    if (!state) return;
    applyState(state, true);
    const id = view.open;
    view.open = undefined;
    if (id) await openConversation(id);
    else route();
  });
  events.addEventListener('error', () => {
    $('#live').textContent = t('live.reconnecting');
  });
}

translatePage();
const languages = $('#language');
for (const { code, name } of LANGUAGES) languages.append(new Option(name, code, false, code === lang));
languages.addEventListener('change', () => chooseLanguage(languages.value));
connect();
