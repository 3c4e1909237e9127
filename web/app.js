'use strict';
// The console's core: the API client, the page router and the few helpers
// every page uses to build its content. Pages register with Baton.page();
// boot.js starts the console once every page has. Content is always set
// with textContent (never innerHTML), so nothing from a record can become
// markup. Every API request carries the session's token in X-CSRF-Token:
// the cookie (HttpOnly) alone opens nothing, since a browser sends it to
// every port of the host. The token lives in this tab's sessionStorage,
// which no other origin (another port included) can read, so a reload
// keeps the session and a new tab signs in anew.
const Baton = (() => {
  const pages = {};
  const order = [];
  let csrf = null;
  let me = null;

  function $(id) { return document.getElementById(id); }

  // el('p', {class: 'x', text: 'y', onclick: f}, child...) makes an element.
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids.flat()) {
      if (k === undefined || k === null || k === false) continue;
      e.append(k instanceof Node ? k : String(k));
    }
    return e;
  }

  async function call(method, path, body, raw) {
    const headers = { 'Accept': 'application/json' };
    if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
    if (raw) headers['Content-Type'] = 'application/octet-stream';
    if (csrf) headers['X-CSRF-Token'] = csrf;
    let r;
    try {
      r = await fetch(path, {
        method, headers, credentials: 'same-origin',
        body: body === undefined ? undefined : (raw ? body : JSON.stringify(body)),
      });
    } catch (e) {
      return { status: 0, data: { error: 'the node did not answer: is baton serve running?' } };
    }
    let data = {};
    try { data = await r.json(); } catch (e) { /* an empty or non-JSON answer */ }
    if (r.status === 401 && path !== '/api/v1/session') signedOut('Your session ended: sign in again.');
    return { status: r.status, data };
  }

  class ApiError extends Error {
    constructor(status, data) {
      super(data.error || ('the node answered ' + status));
      this.status = status;
      this.data = data;
    }
  }

  // api('GET', 'students?q=x'): the answer's data, or throws ApiError.
  async function api(method, path, body, raw) {
    const r = await call(method, '/api/v1/' + path, body, raw);
    if (r.status < 200 || r.status > 299) throw new ApiError(r.status, r.data);
    return r.data;
  }

  function message(text, kind) {
    const m = $('message');
    m.textContent = text || '';
    m.className = kind || '';
    m.hidden = !text;
  }

  // table(['Id', 'Name'], rows, row => [cells]) with a caption for screen readers.
  function table(caption, heads, rows, cells) {
    const t = el('table', {},
      el('caption', { class: 'sr-only', text: caption }),
      el('thead', {}, el('tr', {}, heads.map(h => el('th', { scope: 'col', text: h })))));
    const tb = el('tbody');
    for (const r of rows) {
      tb.append(el('tr', {}, cells(r).map(c => el('td', {}, c))));
    }
    t.append(tb);
    return el('div', { class: 'scroll' }, t);
  }

  function when(t) {
    if (!t) return '';
    const d = new Date(t * 1000);
    const p = n => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
      p(d.getHours()) + ':' + p(d.getMinutes());
  }

  function link(hash, text) { return el('a', { href: '#/' + hash, text }); }

  // A state as a tag: kind is ok, bad or wait (or '').
  function tag(kind, text) { return el('span', { class: 'tag ' + kind, text }); }

  // A labelled form field with its hint (the input's aria-describedby is id-hint).
  function field(id, label, input, hint) {
    return el('div', { class: 'field' },
      el('label', { for: id, text: label }), input,
      hint ? el('p', { class: 'hint', id: id + '-hint', text: hint }) : null);
  }

  // A place beside a form for its error, read out when it changes.
  function errorBox(id) { return el('p', { class: 'error', id, role: 'alert', hidden: true }); }
  function showError(box, err) {
    box.textContent = err ? err.message : '';
    box.hidden = !err;
    if (err) message(err.message, 'error');
  }

  // The file at API path (after /api/v1/), fetched with the token and saved
  // as name (else the name the server gives).
  async function download(path, name) {
    const r = await fetch('/api/v1/' + path, { credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf || '' } });
    if (!r.ok) {
      let d = {};
      try { d = await r.json(); } catch (e) { /* not JSON */ }
      if (r.status === 401) signedOut('Your session ended: sign in again.');
      throw new ApiError(r.status, d);
    }
    const cd = r.headers.get('Content-Disposition') || '';
    const m = /filename="([^"]*)"/.exec(cd);
    const url = URL.createObjectURL(await r.blob());
    const a = el('a', { href: url, download: name || (m ? m[1] : 'download') });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // A link that downloads the file at API path when followed (attrs as el's).
  function downloadLink(attrs, path, name) {
    const a = el('a', { ...attrs, href: '/api/v1/' + path });
    a.addEventListener('click', ev => {
      ev.preventDefault();
      download(path, name).catch(e => message(e.message, 'error'));
    });
    return a;
  }

  function page(name, def) {
    pages[name] = def;
    order.push(name);
  }

  function go(hash) {
    if (location.hash === '#/' + hash) route(); else location.hash = '#/' + hash;
  }

  function renderNav() {
    const ul = $('nav-list');
    ul.textContent = '';
    for (const n of order) {
      const p = pages[n];
      if (!p.nav || (p.admin && me.role !== 'admin')) continue;
      ul.append(el('li', {}, el('a', { href: '#/' + n, id: 'nav-' + n, text: p.nav })));
    }
  }

  async function route() {
    if (!me) return;
    const parts = (location.hash.replace(/^#\/?/, '') || 'home').split('/').map(decodeURIComponent);
    const name = pages[parts[0]] ? parts[0] : 'home';
    const p = pages[name];
    for (const a of document.querySelectorAll('#nav-list a')) {
      if (a.id === 'nav-' + name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const root = $('page');
    root.textContent = '';
    message('');
    document.title = p.title + ' · Baton';
    try {
      await p.render(root, parts.slice(1));
    } catch (e) {
      root.append(el('p', { class: 'error', role: 'alert', text: e.message }));
    }
    const h = root.querySelector('h1');
    if (h) { h.tabIndex = -1; h.focus(); }
  }

  function showSchool() {
    const s = me && me.school;
    // The code never breaks at its hyphen on a narrow screen.
    $('school').textContent = '';
    if (s) $('school').append(s.name + ' · ', el('span', { class: 'nowrap', text: s.code }));
    $('school').title = s ? 'Fingerprint ' + s.fingerprint : '';
  }

  function signedIn(who) {
    me = who;
    $('login').hidden = true;
    $('who').hidden = false;
    $('nav').hidden = false;
    $('who-name').textContent = who.user;
    $('who-role').textContent = who.role;
    showSchool();
    renderNav();
    route();
  }

  function signedOut(why) {
    me = null;
    csrf = null;
    sessionStorage.removeItem('baton-token');
    $('login').hidden = false;
    $('who').hidden = true;
    $('nav').hidden = true;
    $('page').textContent = '';
    document.title = 'Sign in · Baton';
    message(why || '', why ? 'error' : '');
  }

  async function login(ev) {
    ev.preventDefault();
    message('');
    const r = await call('POST', '/api/v1/session',
      { user: $('user').value, password: $('password').value });
    $('password').value = '';
    if (r.status === 200) {
      csrf = r.data.csrf;
      sessionStorage.setItem('baton-token', csrf);
      const m = await call('GET', '/api/v1/me');
      signedIn(m.status === 200 ? m.data : r.data);
    } else {
      message(r.data.error || ('The node answered ' + r.status), 'error');
      $('password').focus();
    }
  }

  async function logout() {
    await call('DELETE', '/api/v1/session');
    signedOut('');
  }

  // A reloaded page asks who is signed in (and the token) with its cookie.
  async function start() {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    window.addEventListener('hashchange', route);
    csrf = sessionStorage.getItem('baton-token');
    const m = csrf ? await call('GET', '/api/v1/me') : { status: 401 };
    if (m.status === 200) signedIn(m.data);
    else signedOut('');
  }

  // Custody and contact restrictions (RECORD.md, custody[]): a safety field,
  // shown first wherever a record is shown, in red. Nothing when there are none.
  // whose, when given, says whose restrictions they are ("in the held record").
  function custodyAlert(rows, whose) {
    if (!Array.isArray(rows) || !rows.length) return null;
    return el('section', { class: 'card custody-alert', id: 'custody-alert', role: 'alert',
      'aria-labelledby': 'custody-alert-h' },
    el('h2', { id: 'custody-alert-h',
      text: (rows.length === 1 ? 'Custody restriction' : rows.length + ' custody restrictions') +
        (whose ? ' ' + whose : '') }),
    el('ul', {}, rows.map(c => {
      const more = [c.relation, c.court_order ? 'court order ' + c.court_order : '',
        c.since ? 'since ' + c.since : ''].filter(Boolean).join('; ');
      return el('li', { class: 'custody-row' }, el('strong', { text: c.restriction + ': ' + c.name }),
        more ? ' (' + more + ')' : '');
    })),
    el('p', { text: 'Check this before the student leaves with anyone.' }));
  }

  return {
    $, el, call, api, ApiError, message, table, when, link, tag, field, errorBox, showError,
    download, downloadLink, page, go, start, custodyAlert,
    me: () => me, route,
  };
})();
