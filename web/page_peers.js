'use strict';
// Peers: the schools this node trusts. An admin adds a school from its card
// file, but only after typing the fingerprint the other school's IT person
// read out over the phone (the server checks it again); a school whose key
// changed needs the rotation statement its old key signed.
(() => {
  const { el, api, message, table, when } = Baton;

  // The same rule as the node's: letters and digits only, upper-cased.
  const norm = s => String(s || '').toUpperCase().replace(/[^A-Z0-9]/g, '');

  function base64(buf) {
    const b = new Uint8Array(buf);
    let s = '';
    for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
    return btoa(s);
  }

  function validity(p) {
    return when(p.valid_from) + ' to ' + when(p.valid_until);
  }

  function endpoints(p) {
    return el('ul', { class: 'plain' }, p.endpoints.map(e => el('li', { class: 'mono', text: e })));
  }

  function listCard(peers, admin, reload) {
    if (!peers.length) return el('p', { text: 'No schools are pinned yet.' });
    const heads = ['School', 'Code', 'Fingerprint', 'Endpoints', 'Card valid'];
    if (admin) heads.push('How trusted');
    return table('Trusted schools', heads, peers, p => {
      const cells = [p.name, p.code, el('span', { class: 'mono', text: p.fingerprint }),
        endpoints(p), validity(p)];
      // A directory's school is not unpinned here: its authority's next directory drops it.
      if (admin) {
        cells.push(p.via === 'directory'
          ? el('span', { class: 'hint', text: 'Through the directory of ' + p.authority })
          : unpinButton(p, reload));
      }
      if (p.withdrawn_by) cells[0] = p.name + ' (withdrawn by ' + p.withdrawn_by + ': not trusted)';
      return cells;
    });
  }

  // Two steps, so that one stray click does not unpin a school.
  function unpinButton(p, reload) {
    const box = el('div');
    const ask = el('button', { type: 'button', text: 'Unpin ' + p.name + '…' });
    ask.addEventListener('click', () => {
      box.textContent = '';
      box.append(
        el('p', { class: 'hint', text: 'Records can no longer go to or come from ' + p.name + '.' }),
        el('button', {
          type: 'button', class: 'danger', text: 'Yes, unpin ' + p.name,
          onclick: async () => {
            try {
              await api('DELETE', 'peers/' + encodeURIComponent(p.code));
              await reload();
              message(p.name + ' (' + p.code + ') is no longer pinned.', 'okay');
            } catch (e) { message(e.message, 'error'); }
          },
        }));
    });
    box.append(ask);
    return box;
  }

  // What the card says, and the step that pins it.
  function confirmStep(out, card, bytes, reload) {
    const me = Baton.me();
    const err = el('p', { id: 'pin-error', class: 'error', role: 'alert' });
    const details = el('dl', { class: 'kv' },
      el('dt', { text: 'School' }), el('dd', { text: card.name }),
      el('dt', { text: 'Code' }), el('dd', { text: card.code }),
      el('dt', { text: 'Endpoints' }), el('dd', {}, endpoints(card)),
      el('dt', { text: 'Card valid' }), el('dd', { text: validity(card) }),
      el('dt', { text: 'Fingerprint' }), el('dd', { id: 'card-fingerprint', class: 'mono big', text: card.fingerprint }));
    out.append(el('h3', { text: 'The card says' }), details);
    if (card.own) {
      out.append(el('p', { class: 'error', role: 'alert', text: 'This is this school\'s own card: there is nothing to pin.' }));
      return;
    }
    let rotation = null;
    if (card.pinned && card.pinned.same_key) {
      out.append(el('p', { class: 'hint', text: card.code + ' is pinned already with this key (' +
        'card valid ' + validity(card.pinned) + '). A newer card of the same key is taken with “baton peer update”.' }));
    } else if (card.pinned) {
      const rot = el('input', { id: 'rotation-file', type: 'file', 'aria-describedby': 'rotation-hint' });
      rot.addEventListener('change', async () => {
        rotation = rot.files[0] ? base64(await rot.files[0].arrayBuffer()) : null;
        update();
      });
      out.append(el('div', { class: 'card warn' },
        el('h3', { text: 'This school\'s key has changed' }),
        el('p', { text: card.code + ' is pinned with another key, fingerprint ' }, el('span', { class: 'mono', text: card.pinned.fingerprint }), '.'),
        el('p', { id: 'rotation-hint', class: 'hint', text: 'Ask the school for the rotation statement its old key signed when it changed keys (the .rot file from “baton rekey”). Without it the new key is refused.' }),
        el('label', { for: 'rotation-file', text: 'Rotation statement file' }), rot));
    }
    const typed = el('input', { id: 'expect', autocomplete: 'off', spellcheck: 'false', class: 'mono', 'aria-describedby': 'expect-hint expect-state' });
    const state = el('p', { id: 'expect-state', class: 'hint', 'aria-live': 'polite' });
    const pin = el('button', { type: 'submit', class: 'primary', disabled: true, text: 'Pin ' + card.name });
    function update() {
      const t = norm(typed.value);
      const match = t === norm(card.fingerprint);
      const needsRot = card.pinned && !card.pinned.same_key;
      state.textContent = !t ? '' : match ? 'The fingerprint matches the card.' :
        (norm(card.fingerprint).startsWith(t) ? 'Keep typing…' : 'This does not match the card\'s fingerprint: do not pin it.');
      state.className = 'hint ' + (!t ? '' : match ? 'okay' : 'error');
      pin.disabled = !match || (needsRot && !rotation);
    }
    typed.addEventListener('input', update);
    const form = el('form', { class: 'confirm' },
      el('h3', { text: 'Confirm the fingerprint by phone' }),
      el('ol', { id: 'expect-hint' },
        el('li', { text: 'Call the IT person of ' + card.name + ' on a number you already know (not one from the card or its email).' }),
        el('li', {}, 'Read them this school\'s fingerprint: ', el('span', { class: 'mono', text: me && me.school ? me.school.fingerprint : '' }), '.'),
        el('li', { text: 'Ask them to read theirs to you, and type what they read.' })),
      el('label', { for: 'expect', text: 'The fingerprint they read to you' }), typed, state, pin, err);
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      err.textContent = '';
      const body = { card: bytes, expect: typed.value };
      if (rotation) body.rotation = rotation;
      try {
        const r = await api('POST', 'peers', body);
        await reload();
        message(card.name + ' (' + card.code + ') is ' + r.result + ', fingerprint ' + r.fingerprint + '.', 'okay');
      } catch (e) {
        err.textContent = e.message;
        message(e.message, 'error');
      }
    });
    out.append(form);
    if (card.pinned && card.pinned.same_key) pin.remove();
  }

  function addCard(reload) {
    const out = el('div', { id: 'card-check' });
    const err = el('p', { id: 'card-error', class: 'error', role: 'alert' });
    const file = el('input', { id: 'card-file', type: 'file', accept: '.card', 'aria-describedby': 'card-hint' });
    file.addEventListener('change', async () => {
      out.textContent = '';
      err.textContent = '';
      const f = file.files[0];
      if (!f) return;
      try {
        const buf = await f.arrayBuffer();
        const card = await api('POST', 'peers/check', buf, true);
        confirmStep(out, card, base64(buf), reload);
      } catch (e) {
        err.textContent = e.message;
        message(e.message, 'error');
      }
    });
    return el('section', { class: 'card', 'aria-labelledby': 'add-title' },
      el('h2', { id: 'add-title', text: 'Add a school' }),
      el('label', { for: 'card-file', text: 'The school\'s card file' }), file,
      el('p', { id: 'card-hint', class: 'hint', text: 'The other school makes it with “baton card”. Nothing is stored until you confirm its fingerprint.' }),
      err, out);
  }

  Baton.page('peers', {
    nav: 'Peers', title: 'Peers', admin: true,
    render: async root => {
      const admin = Baton.me().role === 'admin';
      const reload = () => Baton.route();
      root.append(el('h1', { text: 'Schools this node trusts' }));
      const { peers } = await api('GET', 'peers');
      root.append(el('section', { class: 'card', 'aria-labelledby': 'pinned-title' },
        el('h2', { id: 'pinned-title', text: 'Trusted schools' }), listCard(peers, admin, reload)));
      if (admin) root.append(addCard(reload));
    },
  });
})();
