// DingTalk's markdown subset to HTML, for the sandbox. DingTalk's robot docs list headings,
// quotes, bold, italic, links, images, ordered and unordered lists and <font color>; its
// clients also show `code`, fenced code and rules, which dingops uses for task output.
// Every piece of text is escaped here and nothing else passes: a message is untrusted text.
// Linear in the length of the text: lines are read once, and each inline marker's closing
// partner is found with a search that never goes back over text it has already read.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML text (and attribute values). */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Only web links open from the sandbox; other schemes (dtmd://, dingtalk://, javascript:) are shown, not followed. */
export function safeUrl(url) {
  return /^https?:\/\/[^\s"'<>]+$/i.test(url) ? url : undefined;
}

/**
 * `next(token, from)`: the index of `token` at or after `from`, or -1. Remembers its last
 * answer per token: a later search from before that answer gives it again without reading,
 * so every search reads only text no earlier search of the same token read.
 */
function finder(text) {
  const last = new Map();
  return (token, from) => {
    const seen = last.get(token);
    if (seen && seen.from <= from && (seen.at === -1 || seen.at >= from)) return seen.at;
    const at = text.indexOf(token, from);
    last.set(token, { from, at });
    return at;
  };
}

/**
 * One line's inline markup. `mentions`: the userIds and names to show as @mentions.
 * `depth` stops emphasis inside emphasis (DingTalk draws no nesting), which also bounds the
 * work: an inner span is read at most twice.
 */
export function renderInline(text, mentions = new Set(), depth = 0) {
  // Made on the first marker: most spans (a bold word, a link's label) have none.
  let find;
  const next = (token, from) => {
    find ??= finder(text);
    return find(token, from);
  };
  // Pieces joined once at the end: appending to one growing string made hostile input (a
  // million-character line of tiny spans) spend its time in the garbage collector.
  const out = [];
  let plain = 0;
  let openFonts = 0;
  const flush = (to) => {
    if (to > plain) out.push(mentionsIn(escapeHtml(text.slice(plain, to)), mentions));
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    let end = -1;
    let html = '';
    if (c === '`') {
      const close = next('`', i + 1);
      if (close > i + 1) {
        html = `<code>${escapeHtml(text.slice(i + 1, close))}</code>`;
        end = close + 1;
      }
    } else if (c === '*' && depth === 0) {
      const strong = text[i + 1] === '*';
      const marker = strong ? '**' : '*';
      const close = next(marker, i + marker.length);
      if (close > i + marker.length) {
        const inner = inline(text.slice(i + marker.length, close), mentions, depth + 1);
        html = strong ? `<strong>${inner}</strong>` : `<em>${inner}</em>`;
        end = close + marker.length;
      }
    } else if (c === '[' || (c === '!' && text[i + 1] === '[')) {
      const image = c === '!';
      const start = image ? i + 1 : i;
      const closeText = next(']', start + 1);
      if (closeText !== -1 && text[closeText + 1] === '(') {
        const closeUrl = next(')', closeText + 2);
        if (closeUrl !== -1) {
          const label = text.slice(start + 1, closeText);
          const url = text.slice(closeText + 2, closeUrl).trim();
          html = link(image ? `🖼 ${label || 'image'}` : label, url, mentions, depth);
          end = closeUrl + 1;
        }
      }
    } else if (c === '<') {
      const font = /^<font\s+color\s*=\s*["']?(#[0-9a-f]{3,8}|[a-z]{3,20})["']?\s*>/i.exec(
        text.slice(i, i + 48),
      );
      if (font) {
        html = `<span class="md-font" data-color="${escapeHtml(font[1])}">`;
        openFonts++;
        end = i + font[0].length;
      } else if (openFonts > 0 && text.slice(i, i + 7).toLowerCase() === '</font>') {
        html = '</span>';
        openFonts--;
        end = i + 7;
      }
    }
    if (end === -1) {
      i++;
      continue;
    }
    flush(i);
    out.push(html);
    i = end;
    plain = end;
  }
  flush(text.length);
  if (openFonts > 0) out.push('</span>'.repeat(openFonts));
  return out.join('');
}

const MARKERS = /[`*[!<]/;

/** A span's content: plain text (most are a word or two) without starting another scan. */
function inline(text, mentions, depth) {
  return MARKERS.test(text) ? renderInline(text, mentions, depth) : mentionsIn(escapeHtml(text), mentions);
}

function link(label, url, mentions, depth) {
  const inner = inline(label, mentions, depth + 1);
  const href = safeUrl(url);
  if (!href) return `<span class="md-link" title="${escapeHtml(url)}">${inner}</span>`;
  return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${inner}</a>`;
}

/** `@name` as a mention when it names someone mentioned (already escaped text: names are word characters). */
function mentionsIn(escaped, mentions) {
  if (mentions.size === 0 || !escaped.includes('@')) return escaped;
  return escaped.replace(/@([\w.-]+)/g, (whole, name) =>
    mentions.has(name.toLowerCase()) ? `<span class="mention">${whole}</span>` : whole,
  );
}

const HEADING = /^(#{1,6})\s+(.*)$/;
const QUOTE = /^>\s?(.*)$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const RULE = /^\s*(?:-{3,}|\*{3,}|_{3,})\s*$/;
const FENCE = /^\s*```/;

/** A whole message's markdown as HTML blocks. */
export function renderMarkdown(text, mentions = new Set()) {
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let list; // { tag, items }
  let quote; // lines
  let para; // lines
  let code; // lines, inside a fence
  const close = (keep) => {
    if (list && keep !== 'list') {
      const start = list.tag === 'ol' && list.start !== 1 ? ` start="${list.start}"` : '';
      out.push(`<${list.tag}${start}>${list.items.map((li) => `<li>${li}</li>`).join('')}</${list.tag}>`);
      list = undefined;
    }
    if (quote && keep !== 'quote') {
      out.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
      quote = undefined;
    }
    if (para && keep !== 'para') {
      out.push(`<p>${para.join('<br>')}</p>`);
      para = undefined;
    }
  };
  for (const line of lines) {
    if (code) {
      if (FENCE.test(line)) {
        out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
        code = undefined;
      } else code.push(line);
      continue;
    }
    if (FENCE.test(line)) {
      close();
      code = [];
      continue;
    }
    const heading = HEADING.exec(line);
    const quoted = QUOTE.exec(line);
    const bullet = BULLET.exec(line);
    const numbered = NUMBERED.exec(line);
    if (!line.trim()) close();
    else if (RULE.test(line)) {
      close();
      out.push('<hr>');
    } else if (heading) {
      close();
      out.push(`<p class="md-h${heading[1].length}">${renderInline(heading[2], mentions)}</p>`);
    } else if (quoted) {
      close('quote');
      quote ??= [];
      quote.push(renderInline(quoted[1], mentions));
    } else if (bullet) {
      if (list?.tag !== 'ul') close();
      list ??= { tag: 'ul', items: [] };
      list.items.push(renderInline(bullet[1], mentions));
    } else if (numbered) {
      if (list?.tag !== 'ol') close();
      list ??= { tag: 'ol', start: Number(numbered[1]), items: [] };
      list.items.push(renderInline(numbered[2], mentions));
    } else {
      close('para');
      para ??= [];
      para.push(renderInline(line, mentions));
    }
  }
  // An unclosed fence shows what it has (a streamed block still arriving).
  if (code) out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
  close();
  return out.join('');
}

/** Plain text (a text message) with line breaks and @mentions. */
export function renderText(text, mentions = new Set()) {
  return String(text)
    .split(/\r\n?|\n/)
    .map((line) => mentionsIn(escapeHtml(line), mentions))
    .join('<br>');
}
