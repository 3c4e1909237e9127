'use strict';
// This school: its card (what other schools pin), which anyone may download;
// an admin also moves the school to new endpoints, takes a pinned school's
// newer card, and signs the audit log's head. The heads other schools' logs
// sent show that their logs still hold what they said.
(() => {
  const { el, api, message, table, when } = Baton;

  function endpoints(c) {
    return el('ul', { class: 'plain' }, c.endpoints.map(e => el('li', { class: 'mono', text: e })));
  }

  function cardFile(c) { return c.code.toLowerCase().replace(/[^a-z0-9]/g, '-') + '.card'; }

  function download(id, c, text) {
    return Baton.downloadLink({ id, class: 'button primary', text }, 'school/card', cardFile(c));
  }

  function details(c) {
    const kv = el('dl', { class: 'kv' },
      el('dt', { text: 'School' }), el('dd', { id: 'school-name', text: c.name }),
      el('dt', { text: 'Code' }), el('dd', { id: 'school-code', text: c.code }),
      el('dt', { text: 'Fingerprint' }), el('dd', { id: 'school-fingerprint', class: 'mono big', text: c.fingerprint }),
      el('dt', { text: 'Endpoints' }), el('dd', { id: 'school-endpoints' }, endpoints(c)),
      el('dt', { text: 'Card valid' }), el('dd', { text: when(c.valid_from) + ' to ' + when(c.valid_until) }));
    const out = [kv];
    if (c.loopback_only) {
      out.push(el('p', { class: 'error', role: 'note', text: 'The card names only this machine (' + c.endpoints[0] +
        '): other schools cannot reach it. ' +
        (Baton.me().role === 'admin' ? 'Set a reachable endpoint below.' : 'An admin sets a reachable endpoint on this page.') }));
    }
    return out;
  }

  function cardSection(c) {
    return el('section', { id: 'card-section', class: 'card', 'aria-labelledby': 'card-title' },
      el('h2', { id: 'card-title', text: 'This school\'s card' }), ...details(c),
      el('p', { class: 'hint', id: 'card-hint', text: 'Give this file to other schools: they pin it, and check the fingerprint with you by phone.' }),
      download('card-download', c, 'Download the card (' + cardFile(c) + ')'));
  }

  function endpointSection(c) {
    const err = el('p', { id: 'endpoint-error', class: 'error', role: 'alert' });
    const done = el('div', { id: 'endpoint-done', 'aria-live': 'polite' });
    const input = el('textarea', { id: 'endpoints', rows: 2, class: 'mono', spellcheck: 'false', 'aria-describedby': 'endpoints-hint' });
    input.value = c.endpoints.join('\n');
    const form = el('form', {},
      el('label', { for: 'endpoints', text: 'Endpoints, one a line' }), input,
      el('p', { id: 'endpoints-hint', class: 'hint', text: 'Where other schools reach this node: tcp://HOST:PORT. The node listens there within a second.' }),
      el('button', { type: 'submit', class: 'primary', text: 'Sign a new card naming these endpoints' }), err, done);
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      err.textContent = '';
      done.textContent = '';
      const eps = input.value.split(/\s+/).filter(Boolean);
      try {
        const n = await api('PUT', 'school/endpoint', { endpoints: eps });
        message('The card now names ' + n.endpoints.join(', ') + '.', 'okay');
        document.getElementById('card-section').replaceWith(cardSection(n));
        done.append(el('h3', { text: 'Give this new card to every school you exchange records with' }),
          el('p', { text: 'It names ' + n.endpoints.join(', ') + ', valid from ' + when(n.valid_from) + '.' }),
          el('p', { class: 'hint', text: 'Each takes it under This school or with “baton peer update”. Until then they send to the old endpoint.' }),
          download('new-card-download', n, 'Download the new card (' + cardFile(n) + ')'));
      } catch (e) {
        err.textContent = e.message;
        message(e.message, 'error');
      }
    });
    return el('section', { class: 'card', 'aria-labelledby': 'endpoint-title' },
      el('h2', { id: 'endpoint-title', text: 'Where this school listens' }), form);
  }

  function updateSection() {
    const err = el('p', { id: 'update-error', class: 'error', role: 'alert' });
    const done = el('div', { id: 'update-done', 'aria-live': 'polite' });
    const file = el('input', { id: 'update-file', type: 'file', accept: '.card', 'aria-describedby': 'update-hint' });
    const form = el('form', {},
      el('label', { for: 'update-file', text: 'The school\'s new card file' }), file,
      el('p', { id: 'update-hint', class: 'hint', text: 'A pinned school that moved sends a newer card with the same key. A changed key is taken under Peers, with its rotation statement.' }),
      el('button', { type: 'submit', class: 'primary', text: 'Take the newer card' }), err, done);
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      err.textContent = '';
      done.textContent = '';
      const f = file.files[0];
      if (!f) {
        err.textContent = 'card: choose the school\'s new card file';
        return;
      }
      try {
        const u = await api('POST', 'peers/update', await f.arrayBuffer(), true);
        const text = u.result === 'unchanged'
          ? u.name + ' (' + u.code + '): this card is the one pinned already.'
          : 'Updated ' + u.name + ' (' + u.code + '): it is now reached at ' + u.endpoints.join(', ') + '.';
        done.append(el('p', { class: 'okay', text }));
        message(text, 'okay');
      } catch (e) {
        err.textContent = e.message;
        message(e.message, 'error');
      }
    });
    return el('section', { class: 'card', 'aria-labelledby': 'update-title' },
      el('h2', { id: 'update-title', text: 'A school moved: take its newer card' }), form);
  }

  // Asked before: every pinned school must take the new card with the statement.
  function rekeySection(c) {
    const err = el('p', { id: 'rekey-error', class: 'error', role: 'alert' });
    const done = el('div', { id: 'rekey-done', 'aria-live': 'polite' });
    const code = el('input', { id: 'rekey-confirm', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'rekey-hint' });
    const form = el('form', {},
      el('p', { id: 'rekey-hint', text: 'A rekey gives this school new keys and a new fingerprint. Every pinned school must then take the new card with the rotation statement the old key signs (under Peers, or “baton peer add CARD --rotation FILE”); until they do, they cannot check what this school sends. The new key file keeps the passphrase the node was started with.' }),
      el('label', { for: 'rekey-confirm', text: 'Type the school code (' + c.code + ') to confirm' }), code,
      el('button', { type: 'submit', class: 'danger', text: 'Change the keys of ' + c.name }), err, done);
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      err.textContent = '';
      done.textContent = '';
      try {
        const k = await api('POST', 'school/rekey', { confirm: code.value });
        document.getElementById('card-section').replaceWith(cardSection(await api('GET', 'school')));
        message('New keys: the fingerprint is now ' + k.fingerprint + '.', 'okay');
        done.append(el('h3', { text: 'Give the new card and the rotation statement to every pinned school' }),
          el('p', {}, 'New fingerprint ', el('span', { id: 'rekey-fingerprint', class: 'mono', text: k.fingerprint }), ' (was ' + k.old_fingerprint + ').'),
          el('div', {},
            download('rekey-card', k.card, 'Download the new card (' + cardFile(k.card) + ')'), ' ',
            Baton.downloadLink({ id: 'rekey-rotation', class: 'button', text: 'Download the rotation statement' },
              'school/rotation', cardFile(k.card).replace(/card$/, 'rot'))));
      } catch (e) {
        err.textContent = e.message;
        message(e.message, 'error');
      }
    });
    return el('section', { class: 'card', 'aria-labelledby': 'rekey-title' },
      el('h2', { id: 'rekey-title', text: 'Change this school\'s keys' }), form);
  }

  function signedText(v) {
    if (v.entries === 0) return 'The log is empty.';
    if (v.signed_through >= v.entries) return 'Every entry is covered by a signed head, the last at entry ' + v.signed_through + '.';
    return 'Entries ' + (v.signed_through + 1) + ' to ' + v.entries + ' are not signed yet.';
  }

  function signSection(v, admin) {
    const state = el('p', { id: 'signed-state', 'aria-live': 'polite' },
      el('span', { class: 'tag ' + (v.signed_through >= v.entries ? 'ok' : 'wait'), text: v.signed_through >= v.entries ? 'signed' : 'unsigned tail' }),
      ' ', signedText(v));
    const s = el('section', { class: 'card', 'aria-labelledby': 'sign-title' },
      el('h2', { id: 'sign-title', text: 'Audit log signing' }), state,
      el('p', { class: 'hint', text: 'While the node runs, it signs the log\'s head with every change. Entries made by commands without the school key are signed by the next change' +
        (admin ? ', or here.' : '.') }));
    if (!admin) return s;
    const b = el('button', { type: 'button', text: 'Sign the log\'s last entry' });
    b.addEventListener('click', async () => {
      try {
        const r = await api('POST', 'audit/sign');
        state.replaceChildren(el('span', { class: 'tag ok', text: 'signed' }), ' ', signedText(r));
        message(r.signed_now ? 'The log is signed to its last entry.' : 'The log was signed to its last entry already.', 'okay');
      } catch (e) { message(e.message, 'error'); }
    });
    s.append(b);
    return s;
  }

  function heldSection(held) {
    const s = el('section', { class: 'card', 'aria-labelledby': 'held-title' },
      el('h2', { id: 'held-title', text: 'What other schools\' logs said' }),
      el('p', { class: 'hint', text: 'Each school\'s signed head, as its last packet or receipt brought it. That school can later prove its log still holds what it said then.' }));
    if (!held.length) {
      s.append(el('p', { id: 'held-none', text: 'No heads kept from other schools yet.' }));
      return s;
    }
    s.append(el('div', { id: 'held' }, table('Heads kept from other schools', ['School', 'Entries', 'Signed', 'Key', 'Head'], held, h => [
      h.school, String(h.entries), when(h.time), el('span', { class: 'mono', text: h.key }),
      el('span', { class: 'mono', text: h.head.slice(0, 16) + '…', title: h.head })])));
    return s;
  }

  Baton.page('school', {
    nav: 'This school', title: 'This school', admin: false,
    render: async root => {
      const admin = Baton.me().role === 'admin';
      root.append(el('h1', { text: 'This school' }));
      const [c, v, h] = await Promise.all([api('GET', 'school'), api('POST', 'audit/verify'), api('GET', 'audit/held')]);
      root.append(cardSection(c));
      if (admin) root.append(endpointSection(c), updateSection());
      root.append(signSection(v, admin), heldSection(h.held));
      if (admin) root.append(rekeySection(c));
    },
  });
})();
