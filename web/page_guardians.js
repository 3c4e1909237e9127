'use strict';
// Guardians: the keys that may consent for a student. A parent's key line
// is pasted, or read from the QR code on the parent's screen with this
// computer's camera (decoded by jsQR, frame by frame, on a canvas); the
// node answers its fingerprint, which the registrar reads to the parent,
// and only once the parent has read back the same one is the key linked.
// Or the registrar invites the parent: a one-time code, its URL and QR code
// (drawn as SVG from the node's rows of modules) to print or show; the
// parent's phone makes the key and enrols it with the code, and the
// registrar confirms the link once the parent reads the same fingerprint.
(() => {
  const { el, api, table, when, message, go } = Baton;
  const SVG = 'http://www.w3.org/2000/svg';
  let camera = null; // {stream, timer} while the camera is on

  function stopCamera() {
    if (!camera) return;
    clearInterval(camera.timer);
    for (const t of camera.stream.getTracks()) t.stop();
    camera = null;
  }
  window.addEventListener('hashchange', stopCamera);

  function ask(root) {
    root.append(el('h1', { text: 'Guardians' }));
    const f = el('form', { class: 'card narrow' },
      el('label', { for: 'gd-student', text: 'Student id' }),
      el('input', { id: 'gd-student', name: 'student', autocomplete: 'off', required: true }),
      el('button', { type: 'submit', class: 'primary', text: 'Show this student\'s guardians' }));
    f.addEventListener('submit', ev => {
      ev.preventDefault();
      go('guardians/' + encodeURIComponent(f.querySelector('#gd-student').value.trim()));
    });
    root.append(f);
  }

  function linksTable(id, links, refresh) {
    if (!links.length) return el('p', { id: 'gd-none', text: 'No guardian key is linked to ' + id + ' yet.' });
    return table('Guardian keys linked to ' + id, ['Fingerprint', 'Relation', 'Consents', 'Linked', ''],
      links, g => [
        el('span', { class: 'mono', text: g.fingerprint }), g.relation,
        el('span', { class: g.restricted ? 'tag bad' : 'tag ok',
          text: g.restricted ? 'restricted: refused' : 'accepted' }),
        when(g.linked),
        el('button', { type: 'button', class: 'link', text: 'Unlink ' + g.fingerprint,
          onclick: async () => {
            try {
              await api('DELETE', 'students/' + encodeURIComponent(id) + '/guardians/' +
                encodeURIComponent(g.fingerprint));
              await refresh();
              message('Unlinked key ' + g.fingerprint + ' from ' + id + '.', 'okay');
            } catch (e) { message(e.message, 'error'); }
          } }),
      ]);
  }

  // Reads frames from the camera into a canvas until jsQR finds a code.
  async function scan(video, status, found) {
    stopCamera();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.jsQR)
      throw new Error('This browser cannot use a camera here: paste the key line instead.');
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    status.textContent = 'Hold the parent\'s QR code up to the camera…';
    camera = { stream, timer: setInterval(() => {
      if (!video.videoWidth) return;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0);
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: 'attemptBoth' });
      if (code && code.data) {
        stopCamera();
        video.hidden = true;
        status.textContent = 'Read the key line from the QR code.';
        found(code.data.trim());
      }
    }, 200) };
  }

  function confirmStep(id, checked, relation, restricted, done) {
    const box = el('div', { class: 'card gd-confirm', id: 'gd-confirm' },
      el('p', { text: 'Read this to the parent: it must match the one on their screen.' }),
      el('p', { class: 'gd-fingerprint mono', id: 'gd-fingerprint', text: checked.fingerprint }),
      el('label', { class: 'gd-check' },
        el('input', { type: 'checkbox', id: 'gd-readback' }),
        'The parent read back the same fingerprint'));
    const btn = el('button', { type: 'button', class: 'primary', disabled: true,
      text: 'Link this key to ' + id });
    box.querySelector('#gd-readback').addEventListener('change', ev => { btn.disabled = !ev.target.checked; });
    btn.addEventListener('click', async () => {
      try {
        const g = await api('POST', 'students/' + encodeURIComponent(id) + '/guardians',
          { key: checked.key, relation: relation(), restricted: restricted() });
        await done();
        message('Linked ' + g.relation + ' key ' + g.fingerprint + ' to ' + id + '.', 'okay');
      } catch (e) { message(e.message, 'error'); }
    });
    box.append(btn);
    return box;
  }

  function linkForm(id, refresh) {
    const errBox = el('p', { class: 'error', id: 'gd-error', role: 'alert' });
    const status = el('p', { class: 'hint', id: 'gd-camera-status', role: 'status' });
    const video = el('video', { class: 'gd-video', hidden: true, muted: true, playsinline: true,
      'aria-label': 'The camera\'s picture' });
    const slot = el('div');
    const key = el('textarea', { id: 'gd-key', name: 'key', rows: 2, spellcheck: 'false',
      autocomplete: 'off', 'aria-describedby': 'gd-key-hint gd-error' });
    const rel = el('select', { id: 'gd-relation', name: 'relation' },
      ['guardian', 'mother', 'father', 'self'].map(r => el('option', { value: r, text: r })));
    const res = el('input', { type: 'checkbox', id: 'gd-restricted' });
    const f = el('form', { class: 'card', id: 'gd-link' },
      el('h2', { text: 'Link a parent\'s key' }),
      el('label', { for: 'gd-key', text: 'The parent\'s public key line' }), key,
      el('p', { class: 'hint', id: 'gd-key-hint', text: 'It starts with baton-gk1- and is what the ' +
        'parent\'s “baton guardian keygen” printed; or scan its QR code from the parent\'s screen.' }),
      el('div', { class: 'row' },
        el('button', { type: 'button', id: 'gd-scan', text: 'Scan the QR code' })),
      status, video,
      el('label', { for: 'gd-relation', text: 'Relation to the student' }), rel,
      el('label', {}, res, 'Restricted (a court order): keep the link but refuse this key\'s consents'),
      el('button', { type: 'submit', class: 'primary', text: 'Check the key' }), errBox, slot);
    const reset = () => { slot.textContent = ''; errBox.textContent = ''; };
    const check = async () => {
      reset();
      try {
        const c = await api('POST', 'guardians/check', { key: key.value.trim() });
        slot.append(confirmStep(id, c, () => rel.value, () => res.checked, refresh));
        slot.querySelector('#gd-readback').focus();
      } catch (e) {
        errBox.textContent = e.message;
        message(e.message, 'error');
      }
    };
    key.addEventListener('input', reset);
    f.addEventListener('submit', ev => { ev.preventDefault(); check(); });
    f.querySelector('#gd-scan').addEventListener('click', async () => {
      reset();
      try {
        await scan(video, status, text => { key.value = text; check(); });
      } catch (e) {
        stopCamera();
        video.hidden = true;
        status.textContent = '';
        errBox.textContent = e.message;
        message(e.message, 'error');
      }
    });
    return f;
  }


  // The QR code's rows of modules ("0101...") as an SVG, with its quiet zone.
  function qrSvg(rows, label) {
    const n = rows.length, q = 4, size = n + 2 * q;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + size + ' ' + size);
    svg.setAttribute('class', 'iv-qr');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
    svg.setAttribute('shape-rendering', 'crispEdges');
    const bg = document.createElementNS(SVG, 'rect');
    bg.setAttribute('width', size);
    bg.setAttribute('height', size);
    bg.setAttribute('fill', '#fff');
    svg.append(bg);
    let d = '';
    rows.forEach((row, y) => {
      for (let x = 0; x < row.length; x++)
        if (row[x] === '1') d += 'M' + (x + q) + ' ' + (y + q) + 'h1v1h-1z';
    });
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', '#000');
    svg.append(path);
    return svg;
  }

  const RELATIONS = ['mother', 'father', 'guardian', 'self'];

  function stateTag(v) {
    const kind = { open: 'wait', claimed: 'wait', linked: 'ok' }[v.state] || 'bad';
    return el('span', { class: 'tag ' + kind, text: v.state });
  }

  // The invitation just made: the code large, the URL, the QR code, Print.
  function invitePanel(id, v) {
    const panel = el('section', { class: 'card iv-panel', id: 'iv-panel', 'aria-labelledby': 'iv-panel-title', tabindex: '-1' },
      el('h2', { id: 'iv-panel-title', text: 'Invitation for the ' + (v.relation === 'self' ? 'student' : v.relation) + ' of ' + id }),
      el('p', { class: 'hint', text: 'Give this to the ' + (v.relation === 'self' ? 'student' : v.relation) +
        ' alone: it is shown only now. Single use; it expires ' + when(v.expires) + '.' }),
      el('p', { class: 'iv-code mono', id: 'iv-code', 'aria-label': 'Invitation code ' + v.code.split('').join(' '), text: v.code }),
      el('p', {}, 'On a phone or computer, open ', el('span', { class: 'mono', id: 'iv-url', text: v.url }),
        ', or scan the QR code:'),
      qrSvg(v.qr, 'QR code of the invitation\'s address'),
      el('p', { class: 'hint iv-registrar', text: 'The page makes a key on the device. Then read its fingerprint ' +
        'back here and confirm the link below.' }),
      el('div', { class: 'row iv-actions' },
        el('button', { type: 'button', id: 'iv-print', class: 'primary', text: 'Print the invitation', onclick: () => window.print() }),
        el('button', { type: 'button', id: 'iv-close', text: 'Close', onclick: () => panel.remove() })));
    return panel;
  }

  function invitesTable(list, refresh) {
    if (!list.length) return el('p', { id: 'iv-none', text: 'No invitations yet.' });
    const act = async (v, how) => {
      try {
        if (how === 'confirm') {
          await api('POST', 'invites/' + encodeURIComponent(v.id) + '/confirm', {});
          message('Linked ' + v.relation + ' key ' + v.fingerprint + ' to ' + v.student + '.', 'okay');
        } else {
          await api('DELETE', 'invites/' + encodeURIComponent(v.id));
          message('Invitation ' + v.id + (v.state === 'claimed' ? ': the key was refused.' : ' cancelled.'), 'okay');
        }
        await refresh();
      } catch (e) { message(e.message, 'error'); }
    };
    return table('Invitations', ['Id', 'Student', 'Relation', 'State', 'Expires', 'Key', ''], list, v => [
      el('span', { class: 'mono', text: v.id }), v.student, v.relation, stateTag(v), when(v.expires),
      v.fingerprint ? el('span', { class: 'mono iv-fp', text: v.fingerprint }) : '',
      v.state === 'claimed'
        ? el('div', { class: 'actions' },
          el('button', { type: 'button', class: 'primary', text: 'Confirm link',
            'aria-label': 'Confirm link of key ' + v.fingerprint + ' to ' + v.student, onclick: () => act(v, 'confirm') }),
          el('button', { type: 'button', class: 'danger', text: 'Refuse',
            'aria-label': 'Refuse key ' + v.fingerprint + ' for ' + v.student, onclick: () => act(v, 'cancel') }))
        : v.state === 'open'
          ? el('button', { type: 'button', class: 'link', text: 'Cancel ' + v.id, onclick: () => act(v, 'cancel') })
          : '',
    ]);
  }

  function invites(id, refreshLinks) {
    const box = el('section', { class: 'card', id: 'iv', 'aria-labelledby': 'iv-title' });
    const list = el('div', { id: 'iv-list' });
    const slot = el('div');
    const err = el('p', { class: 'error', id: 'iv-error', role: 'alert' });
    const rel = el('select', { id: 'iv-relation', name: 'relation' },
      RELATIONS.map(r => el('option', { value: r, text: r })));
    const refresh = async () => {
      const r = await api('GET', 'invites?student=' + encodeURIComponent(id));
      list.textContent = '';
      list.append(invitesTable(r, async () => { await refresh(); await refreshLinks(); }));
    };
    const f = el('form', { id: 'iv-form' },
      el('label', { for: 'iv-relation', text: 'Who is invited' }), rel,
      el('button', { type: 'submit', class: 'primary', id: 'iv-make', text: 'Invite a parent' }), err);
    f.addEventListener('submit', async ev => {
      ev.preventDefault();
      err.textContent = '';
      try {
        const v = await api('POST', 'students/' + encodeURIComponent(id) + '/invites', { relation: rel.value });
        slot.textContent = '';
        const p = invitePanel(id, v);
        slot.append(p);
        p.focus();
        await refresh();
      } catch (e) {
        err.textContent = e.message;
        message(e.message, 'error');
      }
    });
    box.append(el('h2', { id: 'iv-title', text: 'Invite a parent to enrol a key' }),
      el('p', { class: 'hint', text: 'The parent makes the key on their own phone or computer ' +
        'from a one-time code; you confirm the link once they read you its fingerprint.' }),
      f, slot, el('h3', { text: 'Invitations' }), list);
    return { box, refresh };
  }

  async function student(root, id) {
    root.append(el('h1', { text: 'Guardians of ' + id }),
      el('p', { class: 'hint', text: 'Only a linked key\'s consent releases ' + id + '\'s record.' }));
    const list = el('div', { id: 'gd-list' });
    const refresh = async () => {
      const r = await api('GET', 'students/' + encodeURIComponent(id) + '/guardians');
      list.textContent = '';
      list.append(linksTable(id, r.guardians, refresh));
      return r;
    };
    await refresh();
    const host = el('div');
    const rebuild = async () => {
      await refresh();
      host.textContent = '';
      host.append(linkForm(id, rebuild));
    };
    host.append(linkForm(id, rebuild));
    const iv = invites(id, refresh);
    await iv.refresh();
    root.append(list, iv.box, host);
  }

  Baton.page('guardians', {
    nav: 'Guardians', title: 'Guardians', admin: false,
    render: async (root, params) => (params[0] ? student(root, params[0]) : ask(root)),
  });
})();
