// The document viewer's page: hand-written, no libraries (nothing is loaded from outside this server).
// Telegram passes its launch parameters in the URL fragment (tgWebAppData = initData, tgWebAppThemeParams);
// the document's text comes from api/view and is only ever put into the page as text nodes.
'use strict';
(() => {
  const base = document.querySelector('script[src$="/app.js"]').getAttribute('src').replace(/\/app\.js$/, '');
  const query = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const initData = fragment.get('tgWebAppData') || sessionStorage.getItem('cite.initData') || '';
  if (fragment.get('tgWebAppData')) sessionStorage.setItem('cite.initData', initData); // a reload loses the fragment
  const docEl = document.getElementById('doc');
  const nav = document.getElementById('quotes');
  const notice = document.getElementById('notice');
  let state = { from: 0, to: 0, total: 0, loading: false };
  let pageLabel = 'p.';
  // The texts shown without the server's answer, in the link's language (index.html has them in every one).
  const allTexts = JSON.parse(document.getElementById('texts').textContent || '{}');
  const ownTexts = allTexts[query.get('l')] || allTexts.en;
  document.getElementById('status').textContent = ownTexts.loading;

  /** Telegram's client API: tell it the page is ready and may take the whole height. */
  function postEvent(type, data) {
    const payload = JSON.stringify({ eventType: type, eventData: data || {} });
    try {
      if (window.TelegramWebviewProxy) window.TelegramWebviewProxy.postEvent(type, JSON.stringify(data || {}));
      else if (window.external && 'notify' in window.external) window.external.notify(payload);
      else if (window.parent !== window) window.parent.postMessage(payload, 'https://web.telegram.org');
    } catch (e) { /* not inside Telegram */ }
  }

  const COLOR = /^#[0-9a-f]{3,8}$/i;
  function applyTheme(theme) {
    if (!theme) return;
    const root = document.documentElement.style;
    const set = (name, value) => { if (typeof value === 'string' && COLOR.test(value)) root.setProperty(name, value); };
    set('--bg', theme.bg_color); set('--text', theme.text_color); set('--hint', theme.hint_color);
    set('--link', theme.link_color); set('--accent', theme.button_color); set('--accent-text', theme.button_text_color);
    set('--panel', theme.secondary_bg_color);
    if (COLOR.test(theme.bg_color || '')) document.documentElement.className = luminance(theme.bg_color) < 0.5 ? 'dark' : 'light';
  }
  function luminance(hex) {
    let h = hex.slice(1);
    if (h.length === 3) h = h.split('').map((c) => c + c).join('');
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  try { applyTheme(JSON.parse(fragment.get('tgWebAppThemeParams') || 'null')); } catch (e) { /* no theme */ }
  window.addEventListener('message', (event) => {
    try {
      const msg = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
      if (msg && msg.eventType === 'theme_changed') applyTheme(msg.eventData && msg.eventData.theme_params);
    } catch (e) { /* not Telegram's */ }
  });
  window.Telegram = window.Telegram || {};
  window.Telegram.WebView = window.Telegram.WebView || {
    receiveEvent(type, data) { if (type === 'theme_changed') applyTheme(data && data.theme_params); },
  };

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  async function fetchView(extra) {
    const params = new URLSearchParams(query);
    for (const [k, v] of Object.entries(extra || {})) params.set(k, String(v));
    const headers = initData ? { Authorization: 'tma ' + initData } : {};
    const res = await fetch(base + '/api/view?' + params.toString(), { headers, credentials: 'omit' });
    const body = await res.json().catch(() => ({}));
    return { ok: res.ok, body };
  }

  /** One block of the document: the title, a heading or a paragraph with its ¶, after a page marker when a page starts. */
  function renderBlock(block, previous) {
    const out = [];
    if (block.page !== undefined && (!previous || previous.page !== block.page)) out.push(el('div', 'pagebreak', pageLabel + ' ' + block.page));
    const tag = block.n === 0 ? 'h1' : block.heading ? 'h2' : 'p';
    const e = el(tag);
    if (block.n > 0 && !(previous && previous.n === block.n && previous.page === block.page)) e.appendChild(el('span', 'n', '¶' + block.n));
    let mark = null;
    for (const [text, kind] of block.parts) {
      if (kind === 0) { mark = null; e.appendChild(document.createTextNode(text)); continue; }
      if (!mark) { mark = el('mark'); e.appendChild(mark); }
      mark.appendChild(kind === 2 ? el('strong', '', text) : document.createTextNode(text));
    }
    out.push(e);
    return out;
  }

  let blocksShown = [];
  function renderAll(blocks) {
    docEl.textContent = '';
    blocksShown = blocks;
    blocks.forEach((b, i) => {
      for (const node of renderBlock(b, blocks[i - 1])) docEl.appendChild(node);
      if (i === 0 && b.n === 0 && state.file) docEl.appendChild(el('p', 'file', state.file));
    });
  }

  /** Shows quote `i`. A tap whose request is lost keeps the quote shown (and its place for scrolling) and says why. */
  function selectQuote(i) {
    const shown = query.get('i');
    query.set('i', String(i));
    load().then(
      () => history.replaceState(null, '', '?' + query.toString() + location.hash),
      () => { if (shown === null) query.delete('i'); else query.set('i', shown); showUnreachable(); },
    );
  }

  function showUnreachable() {
    notice.textContent = ownTexts.unreachable;
    notice.hidden = false;
    document.getElementById('head').hidden = false;
  }

  function showError(message) {
    docEl.textContent = '';
    nav.textContent = '';
    notice.hidden = true;
    docEl.appendChild(el('p', 'error', message || '…'));
    document.getElementById('head').hidden = true;
    document.body.dataset.state = 'error';
  }

  async function load() {
    const { ok, body } = await fetchView({});
    postEvent('web_app_ready');
    postEvent('web_app_expand');
    if (!ok) return showError(body.error);
    pageLabel = (body.labels && body.labels.page) || pageLabel;
    nav.textContent = '';
    if (body.quotes && body.quotes.length > 1) {
      body.quotes.forEach((label, i) => {
        const b = el('button', '', label);
        b.type = 'button';
        b.setAttribute('aria-current', String(i === body.selected));
        b.addEventListener('click', () => selectQuote(i));
        nav.appendChild(b);
      });
    }
    notice.hidden = !body.notice;
    notice.textContent = body.notice || '';
    document.getElementById('head').hidden = notice.hidden && !nav.firstChild;
    state = { from: body.from, to: body.from + body.blocks.length, total: body.total, loading: false, file: body.file };
    if (body.title) document.title = body.title;
    renderAll(body.blocks);
    const mark = docEl.querySelector('mark');
    if (mark) mark.scrollIntoView({ block: 'center' });
    document.body.dataset.state = 'ready';
    observe();
  }

  /** More of the document as the reader scrolls towards either end (a long PDF is never sent whole). */
  async function more(direction) {
    if (state.loading) return;
    const from = direction < 0 ? Math.max(0, state.from - 60) : state.to;
    if ((direction < 0 && state.from === 0) || (direction > 0 && state.to >= state.total)) return;
    state.loading = true;
    // A request lost on the way (fetch rejects: a dropped mobile connection) must not leave `loading` set: the next scroll asks again.
    const { ok, body } = await fetchView({ from }).catch(() => ({ ok: false }));
    state.loading = false;
    if (!ok) return;
    const blocks = direction < 0 ? body.blocks.slice(0, state.from - from) : body.blocks;
    if (direction < 0) {
      const height = document.documentElement.scrollHeight;
      state.from = from;
      renderAll([...blocks, ...blocksShown]);
      window.scrollBy(0, document.documentElement.scrollHeight - height);
    } else {
      state.to = from + blocks.length;
      const previous = blocksShown[blocksShown.length - 1];
      blocks.forEach((b, i) => { for (const node of renderBlock(b, i === 0 ? previous : blocks[i - 1])) docEl.appendChild(node); });
      blocksShown = blocksShown.concat(blocks);
    }
  }

  let watching = false;
  function observe() {
    if (watching) return;
    watching = true;
    window.addEventListener('scroll', () => {
      const y = window.scrollY;
      if (y < 400) more(-1);
      if (y + window.innerHeight > document.documentElement.scrollHeight - 800) more(1);
    }, { passive: true });
  }

  load().catch(() => showError(ownTexts.unreachable));
})();
