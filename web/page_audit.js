'use strict';
// Audit: the hash-chained log of every change, request and disclosure,
// filtered by student, action, dates and person, newest first; one
// student's record of disclosures (#/audit/ID, linked from the student's
// page); and "Verify the log" with its result in words.
(() => {
  const { el, api, message, table, when, link } = Baton;

  const ACTIONS = ['disclosure', 'import', 'send', 'release', 'release-refused', 'deny',
    'request-sent', 'request-received', 'request-answered', 'request-denied', 'receipt',
    'consent-import', 'consent-revoke', 'guardian-link', 'guardian-unlink', 'guardian-invite',
    'guardian-invite-cancel', 'guardian-enrol', 'review',
    'peer-add', 'peer-update', 'peer-rotate', 'peer-remove', 'rekey', 'endpoint',
    'user-add', 'user-passwd', 'user-remove', 'login', 'logout', 'init'];

  // A date field's day as seconds: its first second, or with end its last.
  function day(value, end) {
    if (!value) return '';
    const d = new Date(value + (end ? 'T23:59:59' : 'T00:00:00'));
    return isNaN(d) ? '' : String(Math.floor(d.getTime() / 1000));
  }

  function field(id, label, attrs) {
    return el('div', {}, el('label', { for: id, text: label }), el('input', { id, name: id, ...attrs }));
  }

  function tagFor(action) {
    const bad = /refused|denied|deny|remove|revoke/.test(action);
    const ok = /disclosure|release|send|sent|import|add/.test(action);
    return el('span', { class: 'tag ' + (bad ? 'bad' : ok ? 'ok' : ''), text: action });
  }

  function rows(entries, withStudent) {
    const heads = ['Entry', 'When', 'Action'];
    if (withStudent) heads.push('Student');
    heads.push('School', 'Sections', 'Packet / consent', 'Detail', 'By');
    return table('Audit entries, newest first', heads, entries, e => {
      const c = [String(e.seq), when(e.time), tagFor(e.action)];
      if (withStudent) c.push(e.student ? link('audit/' + encodeURIComponent(e.student), e.student) : '');
      c.push(e.peer || '', e.sections || '',
        el('span', { class: 'mono' }, e.packet ? 'packet ' + e.packet : '', e.packet && e.consent ? ' ' : '',
          e.consent ? 'consent ' + e.consent : ''),
        e.basis ? el('span', {}, el('span', { class: 'tag basis', text: 'basis: ' + e.basis }), ' ', e.detail || '') : e.detail || '',
        e.by || '');
      return c;
    });
  }

  // The entries for query q, with a button for older ones when there are more.
  async function show(out, q, withStudent) {
    out.textContent = '';
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) params.set(k, v);
    const page = await api('GET', 'audit?' + params.toString());
    if (!page.entries.length) {
      out.append(el('p', { id: 'audit-empty', text: 'No entries match.' }));
      return;
    }
    out.append(el('p', { class: 'hint', id: 'audit-count', text: page.entries.length + ' entries' + (page.more ? ' (older ones follow)' : '') + '.' }));
    out.append(rows(page.entries, withStudent));
    if (page.more) {
      out.append(el('button', {
        type: 'button', text: 'Show older entries',
        onclick: () => show(out, { ...q, before: String(page.next_before) }, withStudent)
          .catch(e => message(e.message, 'error')),
      }));
    }
  }

  function verifyCard() {
    const res = el('div', { id: 'verify-result', 'aria-live': 'polite' });
    const btn = el('button', { type: 'button', class: 'primary', text: 'Verify the log' });
    btn.addEventListener('click', async () => {
      res.textContent = '';
      btn.disabled = true;
      try {
        const v = await api('POST', 'audit/verify');
        res.append(el('p', {},
          el('span', { class: 'tag ' + (v.verified ? (v.unsigned_from ? 'wait' : 'ok') : 'bad'),
            text: v.verified ? (v.unsigned_from ? 'Unbroken, partly unsigned' : 'Verified') : 'BROKEN' }),
          ' ', el('span', { id: 'verify-message', text: v.message })));
        if (v.signer) res.append(el('p', { class: 'hint' }, 'Signed through entry ' + v.signed_through + ' by ', el('span', { class: 'mono', text: v.signer })));
        message(v.verified ? 'The audit log verified.' : 'The audit log does not verify.', v.verified ? 'okay' : 'error');
      } catch (e) {
        res.append(el('p', { class: 'error', role: 'alert', text: e.message }));
        message(e.message, 'error');
      }
      btn.disabled = false;
    });
    return el('section', { class: 'card', 'aria-labelledby': 'verify-title' },
      el('h2', { id: 'verify-title', text: 'Is the log intact?' }),
      el('p', { class: 'hint', text: 'Recomputes the hash chain of every entry and checks each head this school signed.' }),
      btn, res);
  }

  async function all(root) {
    root.append(el('h1', { text: 'Audit log' }));
    const out = el('div', { id: 'audit-entries' });
    const err = el('p', { id: 'filter-error', class: 'error', role: 'alert' });
    const list = el('datalist', { id: 'audit-actions' }, ACTIONS.map(a => el('option', { value: a })));
    const form = el('form', { class: 'card', 'aria-labelledby': 'filter-title' },
      el('h2', { id: 'filter-title', text: 'Find entries' }),
      el('div', { class: 'row' },
        field('f-student', 'Student id', { autocomplete: 'off' }),
        field('f-action', 'Action', { list: 'audit-actions', autocomplete: 'off' }),
        field('f-by', 'Person', { autocomplete: 'off' }),
        field('f-from', 'From', { type: 'date' }),
        field('f-to', 'To', { type: 'date' }),
        el('button', { type: 'submit', class: 'primary', text: 'Show entries' })),
      list, err);
    const q = () => ({
      student: form.querySelector('#f-student').value.trim(),
      action: form.querySelector('#f-action').value.trim(),
      by: form.querySelector('#f-by').value.trim(),
      from: day(form.querySelector('#f-from').value, false),
      to: day(form.querySelector('#f-to').value, true),
      limit: '100',
    });
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      err.textContent = '';
      try { await show(out, q(), true); } catch (e) { err.textContent = e.message; message(e.message, 'error'); }
    });
    root.append(verifyCard(), form, out);
    await show(out, q(), true);
  }

  async function student(root, id) {
    root.append(el('h1', { text: 'Record of disclosures: ' + id }));
    root.append(el('p', { class: 'hint', text: 'Every request for and disclosure of this student\'s record, and every change to it, newest first: what a parent may inspect (34 CFR 99.32).' }));
    root.append(el('p', {}, link('audit', 'The whole audit log')));
    const out = el('div', { id: 'audit-entries' });
    root.append(out);
    await show(out, { student: id, limit: '100' }, false);
  }

  Baton.page('audit', {
    nav: 'Audit', title: 'Audit', admin: false,
    render: async (root, params) => (params[0] ? student(root, params[0]) : all(root)),
  });
})();
