'use strict';
// The family's pages: a parent (or an eligible student) makes a key on this
// device, signs in with it, reads the record the school holds and every
// disclosure of it, and grants or revokes consent. Every word shown comes
// from the message files (i18n/LANG.json); content is always set with
// textContent, never as markup. The key file lives in localStorage,
// encrypted under the parent's passphrase; BatonCrypto (crypto.js) opens it
// only for one signature and wipes the secret right after.
const Family = (() => {
  const KEY = 'baton-family-key';
  const TOKEN = 'baton-family-token';
  const LANG = 'baton-family-lang';
  const LANGS = { en: 'English', es: 'Español' };
  // PROTOCOL.md §2.9: the sections in wire order (bytewise by name), and which are sensitive.
  const SECTIONS = ['assessments', 'attendance', 'custody', 'discipline', 'english_learner',
    'enrollment', 'graduation', 'guardians', 'health', 'homeless', 'identity', 'section_504',
    'special_education', 'transcript'];
  const SENSITIVE = ['custody', 'discipline', 'english_learner', 'health', 'homeless', 'section_504',
    'special_education'];
  // The order a person reads a record in: who may not pick the child up comes first (a
  // safety matter), then who, where, how they did; the other sensitive ones last.
  const SHOWN = ['custody', 'identity', 'enrollment', 'transcript', 'graduation', 'assessments',
    'attendance', 'guardians', 'health', 'special_education', 'section_504', 'english_learner',
    'homeless', 'discipline'];
  // The order of the grant form: what goes by default first, then the sensitive ones.
  const GRANT = ['identity', 'enrollment', 'transcript', 'graduation', 'assessments', 'attendance',
    'guardians', 'health', 'special_education', 'section_504', 'english_learner', 'homeless',
    'custody', 'discipline'];
  const MAX_DAYS = 366; // the longest consent the command line grants
  const MIN_PASS = 10;

  let msgs = {};
  let fallback = {};
  let lang = 'en';
  let csrf = null;
  let me = null;
  let about = null;
  let started = false;
  let redraw = null; // the view shown that no URL names (the fingerprint after enrolment)

  function $(id) { return document.getElementById(id); }

  // t('key', {name: 'x'}): the message in the chosen language, {name}
  // replaced; the English one when the language lacks it.
  function t(key, vars) {
    let s = msgs[key] !== undefined ? msgs[key] : fallback[key];
    if (s === undefined) return key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split('{' + k + '}').join(String(v));
    return s;
  }

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
    for (const k of kids.flat(Infinity)) {
      if (k === undefined || k === null || k === false) continue;
      e.append(k instanceof Node ? k : String(k));
    }
    return e;
  }

  // ---- messages and language ----

  async function loadJson(path) {
    const r = await fetch(path, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(path + ': ' + r.status);
    return r.json();
  }

  async function setLang(l) {
    if (!LANGS[l]) l = 'en';
    if (!Object.keys(fallback).length) fallback = await loadJson('/family/i18n/en.json');
    msgs = l === 'en' ? fallback : await loadJson('/family/i18n/' + l + '.json');
    lang = l;
    document.documentElement.lang = l;
    $('lang').value = l;
    $('lang-label').textContent = t('lang.label');
    $('skip').textContent = t('skip');
    $('signout').textContent = t('signout');
    $('foot-label').textContent = t('foot.label');
    $('foot-what').textContent = t('foot.what');
    showSchool();
  }

  function chooseLang() {
    const saved = localStorage.getItem(LANG);
    if (saved && LANGS[saved]) return saved;
    for (const l of navigator.languages || [navigator.language || 'en']) {
      const base = String(l).toLowerCase().split('-')[0];
      if (LANGS[base]) return base;
    }
    return 'en';
  }

  // ---- dates, names, small pieces ----

  // One formatter a language and style: making one costs more than using it.
  const formats = {};
  function fmt(style) {
    const k = lang + ' ' + style;
    if (!formats[k]) {
      formats[k] = new Intl.DateTimeFormat(lang, style === 'day' ? { dateStyle: 'long' }
        : { dateStyle: 'medium', timeStyle: 'short' });
    }
    return formats[k];
  }
  function when(secs) { return secs ? fmt('time').format(new Date(secs * 1000)) : ''; }
  function day(secs) { return fmt('day').format(new Date(secs * 1000)); }
  function sectionName(s) { return t('section.' + s) !== 'section.' + s ? t('section.' + s) : s; }
  // A list of sections, as an array or as the command line's "a,b,c".
  function sectionList(list) {
    const l = typeof list === 'string' ? list.split(',').filter(Boolean) : list || [];
    return l.slice().sort((a, b) => SHOWN.indexOf(a) - SHOWN.indexOf(b)).map(sectionName).join(', ');
  }
  function relation(r) { return t('relation.' + r) !== 'relation.' + r ? t('relation.' + r) : r; }
  function fullName(s) { return [s.given_name, s.family_name].filter(Boolean).join(' '); }
  function school(s) {
    if (!s) return '';
    if (typeof s === 'string') return s;
    return s.name ? s.name + ' (' + s.code + ')' : s.code || '';
  }
  function tag(kind, text) { return el('span', { class: 'tag ' + kind, text }); }

  // A fingerprint in its five groups, each its own word for a screen reader.
  function fingerprint(fp, big) {
    const groups = String(fp || '').split('-');
    return el('span', { class: 'fpr' + (big ? ' big' : ''), lang: 'en' },
      groups.map((g, i) => el('span', { class: 'fpr-group', text: g + (i < groups.length - 1 ? ' ' : '') })));
  }

  function dl(rows) {
    return el('dl', { class: 'kv' }, rows.filter(r => r && r[1] !== undefined && r[1] !== null && r[1] !== '')
      .map(([k, v]) => [el('dt', { text: k }), el('dd', {}, v)]));
  }

  function field(id, label, input, hint) {
    if (hint) input.setAttribute('aria-describedby', id + '-hint');
    return el('div', { class: 'field' },
      el('label', { for: id, text: label }), input,
      hint ? el('p', { class: 'hint', id: id + '-hint', text: hint }) : null);
  }

  function passField(id, label, hint, auto) {
    return field(id, label, el('input', { id, type: 'password', autocomplete: auto || 'current-password',
      required: true, spellcheck: 'false' }), hint);
  }

  // Progress words, read out by a screen reader (aria-live polite).
  function status(text) { $('status').textContent = text || ''; }
  // An error, read out at once (role alert), and beside the form when given.
  // With a box, the words show there (the alert is then only heard).
  function alert(text, box) {
    $('alert').textContent = text || '';
    $('alert').className = box ? 'alert sr-only' : 'alert';
    if (box) {
      box.textContent = text || '';
      box.hidden = !text;
    }
  }
  function errorBox(id) { return el('p', { class: 'error', id, hidden: true }); }

  // Lets the browser paint the progress words before a long computation.
  function paint() { return new Promise(r => requestAnimationFrame(() => setTimeout(r, 30))); }

  function hex(b) { return Array.from(b, x => x.toString(16).padStart(2, '0')).join(''); }
  function unhex(h) {
    if (!/^([0-9a-f]{2})*$/i.test(h)) throw new Error('not hex');
    const b = new Uint8Array(h.length / 2);
    for (let i = 0; i < b.length; i++) b[i] = parseInt(h.substr(i * 2, 2), 16);
    return b;
  }
  function b64(b) { let s = ''; for (const x of b) s += String.fromCharCode(x); return btoa(s); }
  function unb64(s) { return Uint8Array.from(atob(s), c => c.charCodeAt(0)); }
  function same(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }

  // ---- the API ----

  class ApiError extends Error {
    constructor(status, data) {
      super((data && data.error) || t('err.status', { status }));
      this.status = status;
    }
  }

  async function call(method, path, body) {
    const headers = { 'Accept': 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (csrf) headers['X-CSRF-Token'] = csrf;
    let r;
    try {
      r = await fetch('/api/v1/family/' + path, {
        method, headers, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, { error: t('err.network') });
    }
    let data = {};
    try { data = await r.json(); } catch (e) { /* an empty or non-JSON answer */ }
    if (r.status === 401 && me && path !== 'session') {
      signedOut(t('err.ended'));
      throw new ApiError(401, data);
    }
    if (r.status < 200 || r.status > 299) throw new ApiError(r.status, data);
    return data;
  }

  // Saves bytes (or a Blob) as a file called name.
  function save(data, name, type) {
    const blob = data instanceof Blob ? data : new Blob([data], { type: type || 'application/octet-stream' });
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // An attachment, fetched with the session's token (the cookie alone opens nothing).
  async function download(path, name) {
    const r = await fetch('/api/v1/family/' + path, { credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf || '' } });
    if (!r.ok) {
      let d = {};
      try { d = await r.json(); } catch (e) { /* not JSON */ }
      if (r.status === 401) signedOut(t('err.ended'));
      throw new ApiError(r.status, d);
    }
    save(await r.blob(), name);
  }

  // ---- the key on this device ----

  function storedKey() {
    try {
      const k = JSON.parse(localStorage.getItem(KEY) || 'null');
      if (!k || typeof k.file !== 'string' || typeof k.line !== 'string') return null;
      return { file: unb64(k.file), line: k.line, fingerprint: k.fingerprint || '' };
    } catch (e) {
      return null;
    }
  }
  function keepKey(file, line, fp) {
    localStorage.setItem(KEY, JSON.stringify({ file: b64(file), line, fingerprint: fp }));
  }

  // The words for what BatonCrypto threw (its .code), or its own words.
  function cryptoWords(e) {
    if (e && e.code === 'EPASSPHRASE') return t('err.passphrase');
    if (e && e.code === 'EKEYFILE') return t('err.keyfile');
    return (e && e.message) || String(e);
  }

  // A key file chosen in a file input, checked as a guardian's key that the
  // passphrase opens: {file, line, fingerprint} (BatonCrypto wipes the secret).
  async function loadKeyFile(input, pass) {
    const f = input.files && input.files[0];
    if (!f) throw new Error(t('err.nofile'));
    if (f.size > 4096) throw Object.assign(new Error(), { code: 'EKEYFILE' });
    const file = new Uint8Array(await f.arrayBuffer());
    if (BatonCrypto.keyInfo(file).kind !== 2) throw new Error(t('err.notguardian'));
    const k = BatonCrypto.publicKey(file, pass);
    return { file, line: k.line, fingerprint: k.fingerprint };
  }

  // ---- views ----

  // show(title, build): a fresh view; focus goes to its heading.
  async function show(title, build) {
    const root = $('view');
    status('');
    alert('');
    root.textContent = '';
    document.title = title + ' · ' + (about && about.school ? about.school.name : 'Baton');
    const h = el('h1', { tabindex: '-1', text: title });
    root.append(h);
    try {
      await build(root);
    } catch (e) {
      root.append(el('p', { class: 'error', text: e.message }));
      alert(e.message);
    }
    h.focus();
  }

  // A hint, not a rule (the rule is the length): few distinct characters
  // are easy to guess; length, several words or kinds of character help.
  function strength(p) {
    if (p.length < MIN_PASS) return ['weak', t('pass.short', { n: MIN_PASS })];
    if (new Set(p.toLowerCase()).size < 6) return ['weak', t('pass.weak')];
    const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter(r => r.test(p)).length;
    const words = p.trim().split(/\s+/).length;
    if (p.length >= 20 || (p.length >= 14 && (kinds >= 3 || words >= 3))) return ['strong', t('pass.strong')];
    return ['fair', t('pass.fair')];
  }

  // Enrolment from /family/#invite=CODE.
  function viewEnrol(code) {
    return show(t('enrol.title'), root => {
      root.append(el('p', { text: t('enrol.intro1') }), el('p', { text: t('enrol.intro2') }));
      const have = storedKey();
      const err = errorBox('enrol-error');
      root.append(err);

      const enrol = async (key) => {
        status(t('enrol.sending'));
        let d;
        try {
          d = await call('POST', 'enrol', { code, key: key.line });
        } catch (e) {
          // One answer for a code not known, used, expired or withdrawn.
          if (e.status === 404 || (e.status === 400 && /^code\b/.test(e.message)))
            throw new ApiError(404, { error: t('err.invite') });
          if (e.status === 429) throw new ApiError(429, { error: t('err.throttled') });
          throw e;
        }
        history.replaceState(null, '', location.pathname + '#/');
        status('');
        viewEnrolled(d, key);
      };

      if (have) {
        root.append(el('section', { class: 'card', 'aria-labelledby': 'have-h' },
          el('h2', { id: 'have-h', text: t('enrol.have.title') }),
          el('p', {}, t('enrol.have.text'), ' ', fingerprint(have.fingerprint)),
          el('button', { type: 'button', class: 'primary', id: 'use-have', text: t('enrol.have.use'),
            onclick: async () => {
              try { await enrol(have); } catch (e) { alert(e.message, err); status(''); }
            } })));
      }

      const p1 = passField('pass1', t('enrol.pass1'), t('enrol.pass1.hint', { n: MIN_PASS }), 'new-password');
      const meter = el('p', { class: 'meter', id: 'pass-meter', 'aria-live': 'polite' });
      const p2 = passField('pass2', t('enrol.pass2'), null, 'new-password');
      const make = el('form', { class: 'card', id: 'make-form', 'aria-labelledby': 'make-h', novalidate: true },
        el('h2', { id: 'make-h', text: have ? t('enrol.make.title.other') : t('enrol.make.title') }),
        p1, meter, p2,
        el('button', { type: 'submit', class: 'primary', text: t('enrol.make') }));
      const i1 = make.querySelector('#pass1');
      i1.addEventListener('input', () => {
        const [kind, words] = strength(i1.value);
        meter.className = 'meter ' + kind;
        meter.textContent = i1.value ? words : '';
      });
      make.addEventListener('submit', async ev => {
        ev.preventDefault();
        alert('', err);
        const a = i1.value, b = make.querySelector('#pass2').value;
        if (a.length < MIN_PASS) { alert(t('err.passshort', { n: MIN_PASS }), err); i1.focus(); return; }
        if (a !== b) { alert(t('err.passdiffer'), err); make.querySelector('#pass2').focus(); return; }
        const btn = make.querySelector('button');
        btn.disabled = true;
        try {
          status(t('enrol.making'));
          await paint();
          const k = await BatonCrypto.makeKey(a);
          i1.value = '';
          make.querySelector('#pass2').value = '';
          keepKey(k.file, k.line, k.fingerprint);
          await enrol({ file: k.file, line: k.line, fingerprint: k.fingerprint });
        } catch (e) {
          alert(e instanceof ApiError ? e.message : cryptoWords(e), err);
          status('');
          btn.disabled = false;
        }
      });
      root.append(make);
      root.append(loadForm('enrol', async key => {
        keepKey(key.file, key.line, key.fingerprint);
        await enrol(key);
      }, err));
    });
  }

  // "I already have a key file": a file input and its passphrase; done(key) after it opens.
  function loadForm(id, done, err) {
    const file = el('input', { id: id + '-file', type: 'file', accept: '.key,application/octet-stream' });
    const form = el('form', { class: 'card', id: id + '-load', 'aria-labelledby': id + '-load-h', novalidate: true },
      el('h2', { id: id + '-load-h', text: t('load.title') }),
      el('p', { text: t('load.text') }),
      storedKey() ? el('p', { class: 'hint', text: t('load.replace') }) : null,
      field(id + '-file', t('load.file'), file),
      passField(id + '-loadpass', t('load.pass')),
      el('button', { type: 'submit', text: t('load.use') }));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      alert('', err);
      const pass = form.querySelector('#' + id + '-loadpass');
      const btn = form.querySelector('button');
      btn.disabled = true;
      try {
        status(t('load.opening'));
        await paint();
        const key = await loadKeyFile(file, pass.value);
        await done(key, pass.value);
        pass.value = '';
      } catch (e) {
        alert(e instanceof ApiError ? e.message : cryptoWords(e), err);
        status('');
        btn.disabled = false;
      }
    });
    return form;
  }

  function saveKeyButton(key) {
    return el('button', { type: 'button', id: 'save-key', text: t('key.save'),
      'aria-describedby': 'save-key-hint', onclick: () => save(key.file, 'guardian.key') });
  }

  function viewEnrolled(d, key) {
    redraw = () => viewEnrolled(d, key);
    return show(t('enrolled.title'), root => {
      root.append(
        el('p', { text: t('enrolled.fpr') }),
        el('p', { id: 'my-fpr' }, fingerprint(d.fingerprint, true)),
        el('p', { class: 'lead', text: t('enrolled.read') }),
        el('p', { text: t('enrolled.next', { name: d.student ? d.student.given_name : '', school: d.school ? d.school.name : '' }) }),
        el('section', { class: 'card', 'aria-labelledby': 'backup-h' },
          el('h2', { id: 'backup-h', text: t('key.backup.title') }),
          el('p', { id: 'save-key-hint', text: t('key.backup.text') }),
          saveKeyButton(key)),
        el('button', { type: 'button', class: 'primary', text: t('enrolled.signin'), onclick: () => go('') }));
    });
  }

  // Sign in: a challenge from the node, signed in the page with the key
  // (unlocked for that signature only), and a session.
  function viewSignIn() {
    return show(t('signin.title'), root => {
      const have = storedKey();
      const err = errorBox('signin-error');
      const signIn = async (key, pass) => {
        const ch = await call('GET', 'challenge');
        status(t('signin.signing'));
        await paint();
        const sig = await BatonCrypto.signLogin(key.file, pass, {
          fingerprint: ch.school.fingerprint, origin: location.origin, nonce: unhex(ch.nonce) });
        const d = await call('POST', 'session', { key: key.line, nonce: ch.nonce, signature: typeof sig === 'string' ? sig : hex(sig) });
        csrf = d.csrf;
        sessionStorage.setItem(TOKEN, csrf);
        status('');
        await start2();
      };
      if (have) {
        const form = el('form', { class: 'card', id: 'signin-form', novalidate: true },
          el('p', {}, t('signin.with'), ' ', fingerprint(have.fingerprint)),
          passField('signin-pass', t('signin.pass'), t('signin.pass.hint')),
          el('button', { type: 'submit', class: 'primary', text: t('signin.go') }));
        form.addEventListener('submit', async ev => {
          ev.preventDefault();
          alert('', err);
          const p = form.querySelector('#signin-pass');
          const btn = form.querySelector('button');
          btn.disabled = true;
          try {
            await signIn(have, p.value);
            p.value = '';
          } catch (e) {
            alert(e instanceof ApiError ? signinWords(e) : cryptoWords(e), err);
            status('');
            btn.disabled = false;
            p.focus();
          }
        });
        root.append(err, form);
      } else {
        root.append(el('p', { text: t('signin.none') }), err);
      }
      // A key file loaded here is kept on this device, and signs in at once.
      root.append(loadForm('signin', async (key, pass) => {
        keepKey(key.file, key.line, key.fingerprint);
        try {
          await signIn(key, pass);
        } catch (e) {
          throw e instanceof ApiError ? new Error(signinWords(e)) : e;
        }
      }, err));
    });
  }

  function signinWords(e) {
    if (e.status === 403 && /^key:/.test(e.message)) return t('err.notlinked');
    if (e.status === 429) return t('err.throttled');
    return e.message;
  }

  // ---- signed in ----

  function showSchool() {
    const s = (me && me.school) || (about && about.school);
    $('school-name').textContent = s ? s.name : 'Baton';
    $('signout').hidden = !me;
    if (about && about.bundle) $('bundle').textContent = about.bundle;
  }

  // Why this key does not hold the rights to a record: the student does
  // now (18, or in postsecondary education), or the parents still do.
  function rightsWords(s) {
    return t(s.rights === 'parents' ? 'rights.parents' : 'rights.student', { name: s.given_name });
  }

  function student(id) { return me && me.students.find(s => s.id === id); }

  function viewHome() {
    return show(t('home.title'), root => {
      root.append(el('p', {}, t('home.key'), ' ', fingerprint(me.fingerprint)));
      if (!me.students.length) root.append(el('p', { text: t('home.none') }));
      const list = el('ul', { class: 'children' });
      for (const s of me.students) {
        const li = el('li', { class: 'card child' },
          el('h2', { text: fullName(s) }),
          el('p', { class: 'hint', text: t('home.relation', { relation: relation(s.relation) }) }));
        if (s.rights !== 'holds') {
          li.append(el('p', { class: 'notice', text: rightsWords(s) }));
        } else {
          li.append(el('ul', { class: 'links' }, ['record', 'disclosures', 'requests', 'consents', 'grant'].map(v =>
            el('li', {}, el('a', { href: '#/s/' + encodeURIComponent(s.id) + '/' + v, text: t('nav.' + v) })))));
        }
        list.append(li);
      }
      root.append(list, el('section', { class: 'card', 'aria-labelledby': 'backup-h' },
        el('h2', { id: 'backup-h', text: t('key.backup.title') }),
        el('p', { id: 'save-key-hint', text: t('key.backup.text') }),
        storedKey() ? saveKeyButton(storedKey()) : null), emailSection());
    });
  }

  // ---- the email address the school tells the family at (its own section) ----

  // The form for the address on file for this key: set, change or remove it.
  function emailSection() {
    const input = el('input', { id: 'email', type: 'email', autocomplete: 'email', maxlength: '254' });
    const err = el('p', { id: 'email-err', class: 'error', role: 'alert' });
    const now = el('p', { id: 'email-now', class: 'hint' });
    const remove = el('button', { type: 'button', id: 'email-remove', text: t('email.remove'), hidden: true });
    const shown = v => {
      input.value = v || '';
      now.textContent = v ? t('email.now', { email: v }) : t('email.none');
      remove.hidden = !v;
    };
    const put = async v => {
      err.textContent = '';
      try {
        const d = await call('PUT', 'email', { email: v });
        shown(d.email);
        status(d.email ? t('email.saved') : t('email.removed'));
      } catch (e) {
        err.textContent = e.message;
        input.setAttribute('aria-invalid', 'true');
      }
    };
    const form = el('form', { id: 'email-form', novalidate: true },
      field('email', t('email.label'), input, t('email.hint')), err,
      el('button', { type: 'submit', id: 'email-save', text: t('email.save') }), ' ', remove);
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      input.removeAttribute('aria-invalid');
      put(input.value.trim());
    });
    remove.addEventListener('click', () => put(''));
    call('GET', 'email').then(d => shown(d.email), () => shown(null));
    return el('section', { class: 'card', id: 'email-card', 'aria-labelledby': 'email-h' },
      el('h2', { id: 'email-h', text: t('email.title') }),
      el('p', { text: t('email.text') }), now, form);
  }

  // The heading and menu of a child's pages.
  function childNav(s, current) {
    return el('nav', { class: 'childnav', 'aria-label': t('nav.label', { name: s.given_name }) },
      el('ul', {},
        el('li', {}, el('a', { href: '#/', text: t('nav.home') })),
        ['record', 'disclosures', 'requests', 'consents', 'grant'].map(v =>
          el('li', {}, el('a', { href: '#/s/' + encodeURIComponent(s.id) + '/' + v, text: t('nav.' + v),
            'aria-current': v === current ? 'page' : null })))));
  }

  function childView(s, which, build) {
    return show(t('title.' + which, { name: s.given_name }), async root => {
      root.prepend(childNav(s, which));
      if (s.rights !== 'holds') {
        root.append(el('p', { class: 'notice', text: rightsWords(s) }));
        return;
      }
      await build(root);
    });
  }

  // A value of the record: an object as a list of labels and values, an
  // array as a list of those, anything else as its text.
  function value(v) {
    if (Array.isArray(v)) {
      if (!v.length) return el('p', { class: 'hint', text: t('record.empty') });
      return el('ol', { class: 'items' }, v.map(x => el('li', {}, value(x))));
    }
    if (v && typeof v === 'object') {
      return dl(Object.entries(v).map(([k, x]) => [label(k), value(x)]));
    }
    if (typeof v === 'boolean') return t(v ? 'yes' : 'no');
    return String(v);
  }
  function label(k) {
    const m = t('field.' + k);
    return m !== 'field.' + k ? m : k.replace(/_/g, ' ');
  }

  function viewRecord(s) {
    return childView(s, 'record', async root => {
      status(t('loading'));
      const r = await call('GET', 'students/' + encodeURIComponent(s.id));
      const statements = await call('GET', 'students/' + encodeURIComponent(s.id) + '/statements');
      status('');
      root.append(el('p', { class: 'hint', text: t('record.intro', { time: when(r.updated) }) }));
      const secs = r.sections || {};
      // The record's own keys that are no section (its ids) come first, on one card.
      const ids = Object.keys(secs).filter(k => !SHOWN.includes(k) && k !== 'attachments' &&
        (typeof secs[k] !== 'object' || secs[k] === null));
      if (ids.length) {
        root.append(el('section', { class: 'card section', 'aria-labelledby': 'sec-ids' },
          el('h2', { id: 'sec-ids', text: t('record.ids') }), dl(ids.map(k => [label(k), String(secs[k])]))));
      }
      const names = SHOWN.filter(n => n in secs).concat(Object.keys(secs).filter(n =>
        !SHOWN.includes(n) && !ids.includes(n) && n !== 'attachments'));
      if (!names.length) root.append(el('p', { text: t('record.nothing') }));
      for (const n of names) {
        let v = secs[n];
        if (typeof v === 'string') { try { v = JSON.parse(v); } catch (e) { /* text as it is */ } }
        const sec = el('section', { class: 'card section' + (n === 'custody' ? ' safety' : ''), 'aria-labelledby': 'sec-' + n },
          el('h2', { id: 'sec-' + n }, sectionName(n), SENSITIVE.includes(n) ? [' ', tag('wait', t('sensitive'))] : null),
          n === 'custody' ? el('p', { class: 'lead', text: t('record.custody') }) : null,
          value(v));
        if (SECTIONS.includes(n)) sec.append(dissentPart(s, n, statements.filter(d => d.section === n)));
        const files = (r.attachments || []).filter(a => a.section === n);
        if (files.length) {
          sec.append(el('h3', { text: t('record.files') }), el('ul', { class: 'files' }, files.map(a =>
            el('li', {}, el('button', { type: 'button', class: 'link',
              text: t('record.download', { name: a.name, size: size(a.size) }),
              onclick: () => download('students/' + encodeURIComponent(s.id) + '/attachments/' + a.hash, a.name)
                .catch(e => alert(e.message)) })))));
        }
        root.append(sec);
      }
      const loose = (r.attachments || []).filter(a => !names.includes(a.section));
      if (loose.length) {
        root.append(el('section', { class: 'card' }, el('h2', { text: t('record.files') }),
          el('ul', { class: 'files' }, loose.map(a => el('li', {}, el('button', { type: 'button', class: 'link',
            text: t('record.download', { name: a.name, size: size(a.size) }),
            onclick: () => download('students/' + encodeURIComponent(s.id) + '/attachments/' + a.hash, a.name)
              .catch(e => alert(e.message)) }))))));
      }
    });
  }
  // ---- statements of disagreement (34 CFR 99.21) ----

  // A section's statements, and the form to file one: the parent writes,
  // reads the summary made from the exact bytes to be signed, and signs.
  function dissentPart(s, n, list) {
    const part = el('div', { class: 'dissent', id: 'dissent-' + n });
    if (list.length) {
      part.append(el('h3', { text: t('dis.title') }), el('ul', { class: 'plain statements' }, list.map(d =>
        el('li', { class: 'notice', 'data-id': d.id },
          el('p', { class: 'statement-text', text: d.text }),
          el('p', { class: 'hint' }, t('dis.by', { time: when(d.time) }), ' ',
            d.key === (storedKey() || {}).line ? t('cons.mine') : fingerprint(d.signer))))));
    }
    const open = el('button', { type: 'button', id: 'dis-open-' + n, text: t('dis.open'), 'aria-expanded': 'false' });
    open.addEventListener('click', () => {
      open.hidden = true;
      part.append(dissentForm(s, n, () => { open.hidden = false; open.focus(); }));
      part.querySelector('textarea').focus();
    });
    part.append(el('p', { class: 'hint', text: t('dis.what') }), open);
    return part;
  }

  function dissentForm(s, n, closed) {
    const err = errorBox('dis-error-' + n);
    const area = el('textarea', { id: 'dis-text-' + n, rows: 5, maxlength: 4000, required: true });
    const review = el('div', { class: 'review' });
    const form = el('form', { class: 'dissent-form', novalidate: true },
      field('dis-text-' + n, t('dis.text', { section: sectionName(n) }), area, t('dis.hint')), err,
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'primary', text: t('dis.review') }),
        el('button', { type: 'button', text: t('cancel'), onclick: () => { box.remove(); closed(); } })));
    const box = el('div', {}, form, review);
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      alert('', err);
      const text = area.value.replace(/\r\n/g, '\n').replace(/\n+$/, '');
      if (!text.trim()) { alert(t('dis.empty'), err); area.focus(); return; }
      if (new TextEncoder().encode(text).length > 4000) { alert(t('dis.long'), err); area.focus(); return; }
      try {
        const school = (about && about.school) || me.school;
        const fields = {
          id: crypto.getRandomValues(new Uint8Array(16)), role: s.relation === 'self' ? 'student' : 'guardian',
          school: unhex(school.id), section: n, signer: BatonCrypto.parsePkLine(storedKey().line),
          student: s.id, text, time: Math.floor(Date.now() / 1000),
        };
        // Encoded, read back with every rule and re-encoded: the bytes the signature covers.
        const body = BatonCrypto.encodeStatementBody(fields);
        const shown = BatonCrypto.describeStatementBody(body);
        const bad = [['student', shown.student === s.id], ['section', shown.section === n],
          ['text', shown.text === text], ['school', shown.school.key === school.id],
          ['signer', shown.signer.key === hex(fields.signer)]].filter(w => !w[1]).map(w => w[0]);
        if (bad.length) throw new Error(t('err.summary', { fields: bad.join(', ') }));
        for (const i of form.elements) i.disabled = true;
        const h = el('h3', { id: 'dis-sum-h-' + n, tabindex: '-1', text: t('dis.sum.title') });
        review.append(el('section', { class: 'card summary', 'aria-labelledby': h.id }, h,
          el('ul', { id: 'dis-summary-' + n }, [
            t('dis.sum.who', { name: fullName(s), school: school.name || school.code }),
            t('dis.sum.section', { section: sectionName(shown.section) }),
            t('dis.sum.sent'),
          ].map(l => el('li', { text: l }))),
          el('blockquote', { class: 'statement-text', text: shown.text }),
          unlockForm('dis-sign-' + n, t('dis.sign'), async (key, pass) => {
            const env = BatonCrypto.signStatementBody(key.file, pass, body);
            if (!same(BatonCrypto.decodeStatement(env).body, body) ||
                JSON.stringify(BatonCrypto.describeStatement(env)) !== JSON.stringify(shown))
              throw new Error(t('err.summary', { fields: 'body' }));
            status(t('dis.sending'));
            await call('POST', 'statements', { statement: hex(env) });
            await viewRecord(s);
            status(t('dis.done'));
          }, () => {
            review.textContent = '';
            for (const i of form.elements) i.disabled = false;
            area.focus();
          })));
        h.focus();
      } catch (e) {
        alert(e instanceof ApiError ? e.message : cryptoWords(e), err);
      }
    });
    return box;
  }

  function size(n) {
    const f = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    return n < 1024 ? t('size.b', { n }) : n < 1048576 ? t('size.kb', { n: f.format(n / 1024) }) : t('size.mb', { n: f.format(n / 1048576) });
  }

  function receipt(r) {
    const kind = r === 'received' ? 'ok' : r === 'refused' ? 'bad' : 'wait';
    return tag(kind, t('receipt.' + r) !== 'receipt.' + r ? t('receipt.' + r) : r);
  }
  function who(by) {
    if (by === 'auto-release') return t('by.auto');
    if (by === 'command line') return t('by.cli');
    return t('by.user', { name: by });
  }
  function basis(d) {
    if (d.basis === 'consent') return t('basis.consent');
    return t('basis.' + d.basis) !== 'basis.' + d.basis ? t('basis.' + d.basis) : d.basis;
  }

  // ---- the signed copy of the disclosures (PROTOCOL.md 3.13) ----

  // A button that downloads the record of disclosures signed by the school, and how to check it.
  async function disclosureCopy(s) {
    const self = (about && about.school) || (me && me.school);
    const file = 'disclosures-' + s.id + '.baton-disclosures';
    let line = '';
    try {
      await BatonCrypto.ready();
      if (self && self.id) line = BatonCrypto.pkLine(BatonCrypto.fromHex(self.id), 'sid1');
    } catch (e) { /* the check's line without the key */ }
    const msg = el('p', { id: 'disc-copy-status', role: 'status' });
    return el('section', { class: 'card', id: 'disc-copy', 'aria-labelledby': 'disc-copy-h' },
      el('h2', { id: 'disc-copy-h', text: t('disc.copy.title') }),
      el('p', { text: t('disc.copy.intro', { school: self ? self.name : '' }) }),
      el('button', { type: 'button', class: 'button', id: 'disc-copy-get', text: t('disc.copy.button'),
        onclick: () => {
          msg.textContent = '';
          download('students/' + encodeURIComponent(s.id) + '/disclosures/copy', file)
            .then(() => { msg.textContent = t('disc.copy.saved', { file }); })
            .catch(e => { msg.textContent = e.message; });
        } }),
      msg,
      el('p', { class: 'hint', text: t('disc.copy.check') }),
      el('pre', { class: 'mono', id: 'disc-copy-cmd',
        text: 'baton audit check ' + file + (line ? ' --key ' + line : ' --card SCHOOL.card') }));
  }

  function viewDisclosures(s) {
    return childView(s, 'disclosures', async root => {
      status(t('loading'));
      const list = await call('GET', 'students/' + encodeURIComponent(s.id) + '/disclosures');
      status('');
      root.append(el('p', { text: t('disc.intro', { name: s.given_name }) }));
      // The school's annual notice, when it sends records to a school where a student enrols.
      if (about && about.enrolment_notice) {
        root.append(el('section', { class: 'card', id: 'enrolment-notice' },
          el('h2', { text: t('notice.title') }), el('p', { class: 'notice-text', text: about.enrolment_notice })));
      }
      root.append(await disclosureCopy(s));
      if (!list.length) {
        root.append(el('p', { id: 'disc-none', class: 'lead', text: t('disc.none') }));
        return;
      }
      root.append(el('p', { id: 'disc-count', text: t('disc.count', { n: list.length }) }));
      const ol = el('ol', { class: 'disclosures', id: 'disclosures' });
      for (const d of list) {
        ol.append(el('li', { class: 'card disclosure' },
          el('h2', { text: t('disc.item', { time: when(d.time), school: d.to ? d.to.name || d.to.code : '' }) }),
          dl([
            [t('disc.to'), school(d.to)],
            [t('disc.tofpr'), d.to && d.to.fingerprint ? fingerprint(d.to.fingerprint) : null],
            [t('disc.sections'), sectionList(d.sections)],
            [t('disc.basis'), basis(d)],
            [t('disc.consent'), d.consent ? el('span', { class: 'mono', text: d.consent }) : null],
            [t('disc.by'), who(d.by)],
            [t('disc.receipt'), receipt(d.receipt)],
          ])));
      }
      root.append(ol);
    });
  }

  function viewRequests(s) {
    return childView(s, 'requests', async root => {
      status(t('loading'));
      const list = await call('GET', 'students/' + encodeURIComponent(s.id) + '/requests');
      status('');
      root.append(el('p', { text: t('req.intro', { name: s.given_name }) }));
      if (!list.length) {
        root.append(el('p', { id: 'req-none', class: 'lead', text: t('req.none') }));
        return;
      }
      const ol = el('ol', { class: 'plain' });
      for (const q of list) {
        ol.append(el('li', { class: 'card request' },
          el('h2', { text: t('req.item', { school: q.from ? q.from.name || q.from.code : '' }) }),
          dl([
            [t('req.from'), school(q.from)],
            [t('req.fromfpr'), q.from && q.from.fingerprint ? fingerprint(q.from.fingerprint) : null],
            [t('req.sections'), sectionList(q.sections)],
            [t('req.purpose'), q.purpose],
            [t('req.time'), when(q.time)],
          ]),
          el('a', { class: 'button primary', href: '#/s/' + encodeURIComponent(s.id) + '/grant/' + encodeURIComponent(q.id),
            text: t('req.approve') })));
      }
      root.append(ol);
    });
  }

  // The node says "valid" of a consent in force.
  function active(c) { return c.status === 'valid' || c.status === 'active'; }

  function consentStatus(c) {
    const kind = active(c) ? 'ok' : c.status === 'revoked' ? 'bad' : '';
    return tag(kind, t('status.' + c.status) !== 'status.' + c.status ? t('status.' + c.status) : c.status);
  }

  // Signs with the key on this device: sign(file, pass) once the passphrase
  // is given; the secret is opened inside BatonCrypto for that one signature.
  function unlockForm(id, button, sign, cancel) {
    const err = errorBox(id + '-error');
    const form = el('form', { class: 'unlock', id, novalidate: true },
      passField(id + '-pass', t('unlock.pass'), t('unlock.hint')), err,
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'primary', text: button }),
        cancel ? el('button', { type: 'button', text: t('cancel'), onclick: cancel }) : null));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      alert('', err);
      const key = storedKey();
      const p = form.querySelector('#' + id + '-pass');
      const btn = form.querySelector('button[type=submit]');
      if (!key) { alert(t('err.nokey'), err); return; }
      btn.disabled = true;
      try {
        status(t('unlock.signing'));
        await paint();
        await sign(key, p.value);
        p.value = '';
      } catch (e) {
        alert(e instanceof ApiError ? e.message : cryptoWords(e), err);
        status('');
        btn.disabled = false;
        p.focus();
      }
    });
    return form;
  }

  function viewConsents(s) {
    return childView(s, 'consents', async root => {
      status(t('loading'));
      const list = await call('GET', 'students/' + encodeURIComponent(s.id) + '/consents');
      status('');
      root.append(el('p', { text: t('cons.intro', { name: s.given_name }) }));
      if (!list.length) {
        root.append(el('p', { id: 'cons-none', class: 'lead', text: t('cons.none') }));
      }
      const ol = el('ol', { class: 'plain', id: 'consents' });
      for (const c of list) {
        const li = el('li', { class: 'card consent', 'data-id': c.id },
          el('h2', {}, t('cons.item', { school: c.to ? c.to.name || c.to.code : '' }), ' ', consentStatus(c)),
          dl([
            [t('cons.to'), school(c.to)],
            [t('cons.tofpr'), c.to && c.to.fingerprint ? fingerprint(c.to.fingerprint) : null],
            [t('cons.sections'), sectionList(c.sections)],
            [t('cons.purpose'), c.purpose],
            [t('cons.issued'), when(c.issued)],
            [t('cons.expires'), when(c.expires)],
            [t('cons.signer'), c.mine ? t('cons.mine') : fingerprint(c.signer)],
            [t('cons.id'), el('span', { class: 'mono', text: c.id })],
          ]));
        if (active(c) && c.mine) {
          const open = el('button', { type: 'button', class: 'danger', text: t('cons.revoke'),
            'aria-expanded': 'false' });
          open.addEventListener('click', () => {
            open.hidden = true;
            const f = unlockForm('revoke-' + c.id, t('cons.revoke.sign'), async (key, pass) => {
              const env = BatonCrypto.signRevocation(key.file, pass,
                { consent: unhex(c.id), time: Math.floor(Date.now() / 1000) });
              status(t('cons.revoking'));
              const d = await call('POST', 'revocations', { revocation: hex(env) });
              await viewConsents(s);
              status(d.effective === false ? t('cons.revoked.later') : t('cons.revoked'));
            }, () => { f.remove(); open.hidden = false; open.focus(); });
            li.append(el('p', { class: 'notice', text: t('cons.revoke.what') }), f);
            f.querySelector('input').focus();
          });
          li.append(open);
        }
        ol.append(li);
      }
      root.append(ol);
    });
  }

  // YYYY-MM-DD of a Date (local time).
  function ymd(d) {
    const p = n => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }

  function viewGrant(s, requestId) {
    return childView(s, 'grant', async root => {
      status(t('loading'));
      const schools = await call('GET', 'schools');
      const req = requestId
        ? (await call('GET', 'students/' + encodeURIComponent(s.id) + '/requests')).find(q => q.id === requestId)
        : null;
      status('');
      if (requestId && !req) root.append(el('p', { class: 'notice', text: t('grant.norequest') }));
      if (!schools.length) {
        root.append(el('p', { class: 'lead', text: t('grant.noschools') }));
        return;
      }
      root.append(el('p', { text: t('grant.intro', { name: s.given_name }) }));
      if (req) root.append(el('p', { class: 'notice', id: 'grant-from-request',
        text: t('grant.fromrequest', { school: school(req.from), purpose: req.purpose }) }));
      const err = errorBox('grant-error');
      const sel = el('select', { id: 'grant-to', required: true },
        schools.map(x => el('option', { value: x.id, text: x.name + ' (' + x.code + ')' })));
      const fpr = el('p', { class: 'hint', id: 'grant-to-hint', 'aria-live': 'polite' });
      const showFpr = () => {
        const x = schools.find(y => y.id === sel.value);
        fpr.textContent = '';
        if (x) fpr.append(t('grant.tofpr'), ' ', fingerprint(x.fingerprint));
      };
      sel.setAttribute('aria-describedby', 'grant-to-hint');
      if (req && schools.some(x => x.id === req.from.id)) sel.value = req.from.id;
      showFpr();
      sel.addEventListener('change', showFpr);
      const wanted = req ? req.sections : null;
      const boxes = el('fieldset', { class: 'sections' },
        el('legend', { text: t('grant.sections') }),
        GRANT.map(n => {
          const sens = SENSITIVE.includes(n);
          const id = 'sec-' + n;
          const cb = el('input', { type: 'checkbox', id, name: 'section', value: n,
            checked: n === 'identity' || (!sens && (!wanted || wanted.includes(n))),
            disabled: n === 'identity', 'aria-describedby': id + '-hint' });
          return el('div', { class: 'check' + (sens ? ' sensitive' : '') },
            cb, el('label', { for: id, text: sectionName(n) }),
            el('p', { class: 'hint', id: id + '-hint',
              text: t('help.' + n) + (sens && wanted && wanted.includes(n) ? ' ' + t('grant.asked') : '') }));
        }));
      const purpose = el('textarea', { id: 'grant-purpose', maxlength: '512', required: true, rows: '3' });
      if (req) purpose.value = req.purpose || '';
      const today = new Date();
      const until = el('input', { id: 'grant-until', type: 'date', required: true,
        min: ymd(new Date(today.getTime() + 86400000)), max: ymd(new Date(today.getTime() + (MAX_DAYS - 1) * 86400000)),
        value: ymd(new Date(today.getTime() + 30 * 86400000)) });
      const form = el('form', { id: 'grant-form', novalidate: true },
        field('grant-to', t('grant.to'), sel), fpr,
        boxes,
        field('grant-purpose', t('grant.purpose'), purpose, t('grant.purpose.hint')),
        field('grant-until', t('grant.until'), until, t('grant.until.hint', { n: MAX_DAYS })),
        err,
        el('button', { type: 'submit', class: 'primary', text: t('grant.review') }));
      const review = el('div', { id: 'grant-review' });
      form.addEventListener('submit', ev => {
        ev.preventDefault();
        alert('', err);
        review.textContent = '';
        try {
          const fields = consentFields(s, schools, sel.value, boxes, purpose.value, until.value);
          showSummary(s, fields, form, review);
        } catch (e) {
          alert(e.message, err);
        }
      });
      root.append(form, review);
    });
  }

  // The consent's fields from the form; a field that does not fit is named.
  function consentFields(s, schools, toId, boxes, purpose, until) {
    const to = schools.find(x => x.id === toId);
    if (!to) throw new Error(t('err.to'));
    const sections = Array.from(boxes.querySelectorAll('input:checked'), c => c.value);
    const p = purpose.trim();
    if (!p) throw new Error(t('err.purpose'));
    if (new TextEncoder().encode(p).length > 512 || /[\x00-\x1f\x7f]/.test(p)) throw new Error(t('err.purposelong'));
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(until);
    if (!m) throw new Error(t('err.until'));
    const now = Math.floor(Date.now() / 1000);
    const expires = Math.floor(new Date(+m[1], m[2] - 1, +m[3], 23, 59, 59).getTime() / 1000);
    if (!(expires > now)) throw new Error(t('err.untilpast'));
    if (expires - now > MAX_DAYS * 86400) throw new Error(t('err.untilfar', { n: MAX_DAYS }));
    const self = (about && about.school) || me.school;
    const id = new Uint8Array(16);
    crypto.getRandomValues(id);
    return {
      id, student: s.id, role: s.relation === 'self' ? 'student' : 'guardian',
      from: unhex(self.id), from_code: self.code, to: unhex(to.id), to_code: to.code,
      sections: SECTIONS.filter(n => sections.includes(n)), purpose: p,
      issued: now, expires, signer: BatonCrypto.parsePkLine(storedKey().line),
      toName: to.name, toFingerprint: to.fingerprint,
    };
  }

  // The summary the parent reads before signing, from BatonCrypto's reading
  // of the exact body bytes to be signed (d: describeConsentBody), checked
  // against what the form asked for.
  function summaryOf(d, fields) {
    const want = [
      ['student', d.student === fields.student],
      ['to', d.to.key === hex(fields.to)],
      ['from', d.from.key === hex(fields.from)],
      ['id', d.id === hex(fields.id)],
      ['role', d.role === fields.role],
      ['sections', JSON.stringify(d.sections) === JSON.stringify(fields.sections)],
      ['purpose', d.purpose === fields.purpose],
      ['expires', Number(d.expires) === fields.expires],
      ['signer', d.signer.key === hex(fields.signer)],
    ];
    const bad = want.filter(w => !w[1]).map(w => w[0]);
    if (bad.length) throw new Error(t('err.summary', { fields: bad.join(', ') }));
    return [
      t('sum.who', { name: fullName(student(d.student) || {}) || d.student }),
      t('sum.to', { from: school((about && about.school) || me.school), to: fields.toName + ' (' + d.to.code + ')' }),
      t('sum.tofpr', { fpr: d.to.fingerprint }),
      t('sum.sections', { sections: sectionList(d.sections) }),
      t('sum.purpose', { purpose: d.purpose }),
      t('sum.until', { from: day(Number(d.issued)), until: day(Number(d.expires)) }),
      t('sum.revoke'),
    ];
  }

  function showSummary(s, fields, form, review) {
    // Encoded, read back with every rule and re-encoded by BatonCrypto
    // (refused unless canonical): the very bytes the signature will cover.
    const body = BatonCrypto.encodeConsentBody(fields);
    const shown = BatonCrypto.describeConsentBody(body);
    const lines = summaryOf(shown, fields);
    for (const i of form.elements) i.disabled = true;
    const h = el('h2', { id: 'sum-h', tabindex: '-1', text: t('sum.title') });
    const card = el('section', { class: 'card summary', 'aria-labelledby': 'sum-h' },
      h, el('ul', { id: 'summary' }, lines.map(l => el('li', { text: l }))),
      unlockForm('grant-sign', t('sum.sign'), async (key, pass) => {
        const env = BatonCrypto.signConsentBody(key.file, pass, body);
        // What was signed is what was shown: the envelope holds those bytes.
        if (!same(BatonCrypto.decodeConsent(env).body, body) ||
            JSON.stringify(BatonCrypto.describeConsent(env)) !== JSON.stringify(shown))
          throw new Error(t('err.summary', { fields: 'body' }));
        status(t('sum.sending'));
        await call('POST', 'consents', { consent: hex(env) });
        history.pushState(null, '', '#/s/' + encodeURIComponent(s.id) + '/consents');
        await viewConsents(s);
        status(t('sum.done'));
      }, () => {
        review.textContent = '';
        for (const i of form.elements) if (i.id !== 'sec-identity') i.disabled = false;
        form.querySelector('button').focus();
      }));
    review.append(card);
    h.focus();
  }

  // ---- routing ----

  function go(hash) {
    if (location.hash === '#/' + hash) route(); else location.hash = '#/' + hash;
  }

  async function route() {
    redraw = null;
    const h = location.hash;
    const inv = /^#invite=([^&]*)/.exec(h);
    if (inv) return viewEnrol(decodeURIComponent(inv[1]));
    if (!me) return viewSignIn();
    const parts = h.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    if (parts[0] === 's' && parts[1]) {
      const s = student(parts[1]);
      if (s) {
        switch (parts[2]) {
          case 'record': return viewRecord(s);
          case 'disclosures': return viewDisclosures(s);
          case 'requests': return viewRequests(s);
          case 'consents': return viewConsents(s);
          case 'grant': return viewGrant(s, parts[3]);
        }
      }
    }
    // Home reads the links again: the registrar may have linked or unlinked one.
    try { me = await call('GET', 'me'); } catch (e) { if (!me) return undefined; }
    showSchool();
    return viewHome();
  }

  function signedOut(why) {
    me = null;
    csrf = null;
    sessionStorage.removeItem(TOKEN);
    showSchool();
    viewSignIn().then(() => { if (why) alert(why); });
  }

  async function signOut() {
    try { await call('DELETE', 'session'); } catch (e) { /* the session is gone either way */ }
    signedOut('');
    status(t('signedout'));
  }

  // After a sign-in, or on a reload with this tab's token: who this key is.
  async function start2() {
    me = await call('GET', 'me');
    showSchool();
    if (/^#invite=/.test(location.hash)) history.replaceState(null, '', location.pathname + '#/');
    await route();
  }

  async function start() {
    if (started) return;
    started = true;
    const sel = $('lang');
    for (const [k, v] of Object.entries(LANGS)) sel.append(el('option', { value: k, lang: k, text: v }));
    sel.addEventListener('change', async () => {
      localStorage.setItem(LANG, sel.value);
      await setLang(sel.value);
      await (redraw ? redraw() : route());
    });
    $('signout').addEventListener('click', signOut);
    await setLang(chooseLang());
    try {
      about = await call('GET', 'about');
    } catch (e) {
      about = null;
    }
    showSchool();
    window.addEventListener('hashchange', () => route());
    await BatonCrypto.ready();
    csrf = sessionStorage.getItem(TOKEN);
    if (csrf && !/^#invite=/.test(location.hash)) {
      try {
        await start2();
        return;
      } catch (e) {
        csrf = null;
        me = null;
        sessionStorage.removeItem(TOKEN);
      }
    }
    await route();
  }

  return { start, t };
})();

document.addEventListener('DOMContentLoaded', () => {
  Family.start().catch(e => {
    const v = document.getElementById('view');
    v.textContent = '';
    v.append(Object.assign(document.createElement('p'), { className: 'error', textContent: e.message }));
  });
});
