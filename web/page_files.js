'use strict';
// Files carried by hand, for schools the network does not join: a record
// sealed into a packet file to download; a packet file that came by hand,
// imported, with the receipt to send back; and that receipt recorded at the
// sending school.
(() => {
  const { el, api, message, tag, field, errorBox, showError } = Baton;

  function base64(buf) {
    const b = new Uint8Array(buf);
    let s = '';
    for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
    return btoa(s);
  }

  function bytesOf(b64) {
    const s = atob(b64);
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return b;
  }


  function kv(pairs) {
    return el('dl', { class: 'kv' }, pairs.filter(p => p).map(([k, v]) =>
      [el('dt', { text: k }), el('dd', {}, v)]).flat());
  }

  function fileInput(id, accept, hint) {
    return el('input', { id, type: 'file', accept, 'aria-describedby': id + '-hint' });
  }

  // A link that downloads the file at the API path; clicked at once when asked.
  function download(id, path, text, now) {
    const a = Baton.downloadLink({ id, class: 'button primary', text }, path);
    if (now) setTimeout(() => a.click(), 0);
    return a;
  }

  async function schoolSelect(id) {
    const sel = el('select', { id });
    const { schools } = await api('GET', 'send/schools');
    if (!schools.length) sel.append(el('option', { value: '', text: 'No school is pinned yet' }));
    for (const s of schools) sel.append(el('option', { value: s.code, text: s.name + ' (' + s.code + ')' }));
    return sel;
  }

  // ---- a record sent as a file ----
  async function sendCard() {
    const student = el('input', { id: 'files-student', type: 'text', autocomplete: 'off',
      'aria-describedby': 'files-student-hint' });
    const schools = await schoolSelect('files-to');
    const consent = fileInput('files-consent', '.consent,application/octet-stream');
    const go = el('button', { type: 'submit', id: 'files-send', class: 'primary',
      text: 'Download the record as a packet file' });
    const err = errorBox('files-send-error');
    const result = el('div', { id: 'files-send-result', 'aria-live': 'polite' });

    async function onSend(ev) {
      ev.preventDefault();
      showError(err, null);
      result.replaceChildren();
      try {
        const f = consent.files[0];
        if (!f) throw new Error('consent: choose the family\'s consent file');
        const r = await api('POST', 'send', { student: student.value.trim(), to: schools.value,
          consent_file: base64(await f.arrayBuffer()), as_file: true });
        result.append(el('div', { class: 'card' },
          el('h3', { text: 'Packet ready to carry' }),
          kv([['Student', r.student], ['To', r.to], ['Packet', el('span', { class: 'mono', text: r.packet })],
            ['Sections', r.sections.replace(/,/g, ', ')], ['State', tag('ok', 'sent as a file')]]),
          el('p', { class: 'hint', text: 'Carry the file to the other school. Its receipt comes back as a file: import it below.' }),
          el('div', { class: 'row' }, download('files-packet', r.download, 'Download the packet file again', true))));
        message('The record of ' + r.student + ' is sealed for ' + r.to + ' and downloading.', 'okay');
      } catch (e) { showError(err, e); }
    }

    return el('form', { class: 'card', id: 'files-send-form', onsubmit: onSend },
      el('h2', { text: 'Send a record as a file' }),
      el('p', { class: 'hint', text: 'For a school the network does not reach: the record is sealed and signed as when sent, recorded as sent, and downloaded to carry by hand.' }),
      el('div', { class: 'grid' },
        field('files-student', 'Student id', student, 'The student whose record goes, e.g. S-1001.'),
        field('files-to', 'Receiving school', schools),
        field('files-consent', 'The family\'s consent file', consent, 'A .consent file the parent signed for this school.')),
      el('div', { class: 'row' }, go), err, result);
  }

  // ---- a packet that came as a file ----
  const outcomeKind = { imported: 'ok', unchanged: 'ok', 'seen before': 'wait', 'held for review': 'wait',
    'held for release': 'wait', releasing: 'ok', rejected: 'bad' };

  function receiptLink(r) {
    if (r.receipt_download) return download('files-receipt-out', r.receipt_download, 'Download the receipt to send back');
    const url = URL.createObjectURL(new Blob([bytesOf(r.receipt)], { type: 'application/octet-stream' }));
    return el('a', { id: 'files-receipt-out', class: 'button primary', href: url,
      download: 'receipt-' + r.packet.slice(0, 16) + '.receipt', text: 'Download the receipt to send back' });
  }

  function importCard() {
    const file = fileInput('files-import-file', '.baton,application/octet-stream');
    const go = el('button', { type: 'submit', id: 'files-import', class: 'primary', text: 'Import the record' });
    const err = errorBox('files-import-error');
    const result = el('div', { id: 'files-import-result', 'aria-live': 'polite' });

    async function onImport(ev) {
      ev.preventDefault();
      showError(err, null);
      result.replaceChildren();
      try {
        const f = file.files[0];
        if (!f) throw new Error('file: choose the packet file (.baton) that came by hand');
        const r = await api('POST', 'files/import', await f.arrayBuffer(), true);
        result.append(el('div', { class: 'card' },
          el('h3', { text: r.kind === 'request' ? 'A request for a record' : 'A record' }),
          kv([['Outcome', tag(outcomeKind[r.result] || 'wait', r.result)], ['From', r.from],
            r.student ? ['Student', r.student] : null,
            r.version ? ['Version', String(r.version)] : null,
            r.held ? ['Review', el('span', {}, 'held as ', Baton.link('review', 'number ' + r.held))] : null,
            r.error ? ['Why', r.error] : null,
            ['Packet', el('span', { class: 'mono', text: r.packet })]]),
          r.receipt ? el('p', { class: 'hint', text: 'The receipt tells the sending school what happened: carry it back to them.' }) : null,
          r.receipt ? el('div', { class: 'row' }, receiptLink(r)) : null));
        const what = r.result === 'seen before' ? 'This packet was imported before: nothing changed; the receipt is the same.'
          : r.result === 'rejected' ? 'The packet was rejected: ' + r.error
          : r.kind === 'request' ? 'The request from ' + r.from + ' for ' + r.student + ' is ' + r.result + '.'
          : 'The record of ' + r.student + ' from ' + r.from + ': ' + r.result + '.';
        message(what, r.result === 'rejected' ? 'error' : 'okay');
      } catch (e) { showError(err, e); }
    }

    return el('form', { class: 'card', id: 'files-import-form', onsubmit: onImport },
      el('h2', { text: 'Import a record that came as a file' }),
      el('div', { class: 'grid' },
        field('files-import-file', 'Packet file', file, 'The .baton file another school gave you. It is checked before anything is kept.')),
      el('div', { class: 'row' }, go), err, result);
  }

  // ---- the receipt for a packet sent from here ----
  function receiptCard() {
    const file = fileInput('files-receipt-file', '.receipt,application/octet-stream');
    const go = el('button', { type: 'submit', id: 'files-receipt', class: 'primary', text: 'Record the receipt' });
    const err = errorBox('files-receipt-error');
    const result = el('div', { id: 'files-receipt-result', 'aria-live': 'polite' });

    async function onReceipt(ev) {
      ev.preventDefault();
      showError(err, null);
      result.replaceChildren();
      try {
        const f = file.files[0];
        if (!f) throw new Error('file: choose the receipt file the other school gave you');
        const r = await api('POST', 'files/receipt', await f.arrayBuffer(), true);
        const good = r.state === 'receipted' || r.state === 'delivered';
        result.append(el('div', { class: 'card' },
          kv([['Packet', el('span', { class: 'mono', text: r.packet })], ['Student', r.student], ['To', r.to],
            ['State', tag(good ? 'ok' : 'bad', r.state)], ['Answer', r.reason + (r.note ? ': ' + r.note : '')]]),
          el('p', {}, 'See it in ', Baton.link('transfers', 'Inbox & outbox'), '.')));
        message('The receipt from ' + r.to + ' for ' + r.student + ' is on record: ' + r.state + '.', good ? 'okay' : 'error');
      } catch (e) { showError(err, e); }
    }

    return el('form', { class: 'card', id: 'files-receipt-form', onsubmit: onReceipt },
      el('h2', { text: 'Import a receipt' }),
      el('div', { class: 'grid' },
        field('files-receipt-file', 'Receipt file', file, 'The receipt the other school gave back for a packet sent from here.')),
      el('div', { class: 'row' }, go), err, result);
  }

  // ---- asking another school for a record ----
  async function requestCard() {
    const schools = await schoolSelect('files-from');
    const consent = fileInput('files-req-consent', '.consent,application/octet-stream');
    const note = el('textarea', { id: 'files-note', maxlength: 512, 'aria-describedby': 'files-note-hint' });
    const asFile = el('input', { id: 'files-req-file', type: 'checkbox' });
    const go = el('button', { type: 'submit', id: 'files-request', class: 'primary', text: 'Ask for the record' });
    const err = errorBox('files-request-error');
    const result = el('div', { id: 'files-request-result', 'aria-live': 'polite' });

    async function onRequest(ev) {
      ev.preventDefault();
      showError(err, null);
      result.replaceChildren();
      try {
        const f = consent.files[0];
        if (!f) throw new Error('consent_file: choose the family\'s consent file');
        const r = await api('POST', 'requests', { from: schools.value, note: note.value,
          consent_file: base64(await f.arrayBuffer()), as_file: asFile.checked });
        result.append(el('div', { class: 'card' },
          kv([['Asked', r.from], ['Sections', r.sections.replace(/,/g, ', ')],
            ['Request', el('span', { class: 'mono', text: r.request })],
            ['State', tag(r.state === 'sent' ? 'ok' : 'wait', r.state === 'sent' ? 'sent as a file' : 'queued')]]),
          r.download ? el('div', { class: 'row' }, download('files-request-out', r.download, 'Download the request file again', true))
            : el('p', {}, 'The node delivers it; the record arrives in ', Baton.link('transfers', 'Inbox & outbox'), '.')));
        message('The request to ' + r.from + (r.download ? ' is ready to carry and downloading.' : ' is queued.'), 'okay');
      } catch (e) { showError(err, e); }
    }

    return el('form', { class: 'card', id: 'files-request-form', onsubmit: onRequest },
      el('h2', { text: 'Ask another school for a record' }),
      el('div', { class: 'grid' },
        field('files-from', 'School to ask', schools),
        field('files-req-consent', 'The family\'s consent file', consent, 'It names the student, the sections, that school as sender and this school as receiver.')),
      field('files-note', 'Note to their registrar (optional)', note, 'Seen by the other school\'s registrar. No more than needed.'),
      el('div', { class: 'field' }, el('label', { for: 'files-req-file' }, asFile,
        'Download the request as a file to carry, instead of sending it over the network')),
      el('div', { class: 'row' }, go), err, result);
  }

  Baton.page('files', {
    nav: 'Files',
    title: 'Files carried by hand',
    admin: false,
    render: async (root) => {
      root.append(el('h1', { text: 'Files carried by hand' }),
        el('p', { class: 'hint', text: 'When the network cannot reach the other school, records and receipts travel as files.' }),
        await sendCard(), importCard(), receiptCard(), await requestCard());
    },
  });
})();
