'use strict';
// Review: records held because they name a student on file but are not
// that child. The queue, then one held record beside the student on file,
// field by field, with the registrar's three answers: the next version of
// that student, another student's record, or discarded.
(() => {
  const { el, api, table, when, message, go } = Baton;
  const FIELDS = {
    given_name: 'Given name', family_name: 'Family name', birth_date: 'Birth date',
    state_student_id: 'Statewide id',
  };
  let flash = null; // what the last decision did, shown on the queue

  function fromText(h) {
    return h.from ? h.from + (h.their_id ? ' (their id ' + h.their_id + ')' : '') : 'a file import';
  }

  function why(h) {
    const d = h.identity.filter(f => f.differs).map(f => FIELDS[f.field] || f.field);
    return d.length ? d.join(', ') + (d.length > 1 ? ' differ' : ' differs') : 'not the same child';
  }

  async function queue(root) {
    root.append(el('h1', { text: 'Records held for review' }),
      el('p', { class: 'hint', text: 'A record that names a student on file but is not the same ' +
        'child waits here: nothing in it is current until you accept it.' }));
    if (flash) { message(flash, 'okay'); flash = null; }
    const { held } = await api('GET', 'review');
    if (!held.length) {
      root.append(el('p', { id: 'review-empty', text: 'Nothing is held for review.' }));
      return;
    }
    root.append(table('Records held for review',
      ['Number', 'Names student', 'Why held', 'From', 'Arrived', ''], held, h => [
        String(h.id), h.student, el('span', { class: 'tag wait review-why', text: why(h) }),
        fromText(h), when(h.time),
        Baton.link('review/' + h.id, 'Review record ' + h.id),
      ]));
  }

  function identityTable(h) {
    return table('Held record ' + h.id + ' beside student ' + h.student + ' on file',
      ['Field', 'On file as ' + h.student, 'In the held record', 'Compared'], h.identity, f => [
        FIELDS[f.field] || f.field, f.on_file || '—', f.held || '—',
        el('span', { class: f.differs ? 'tag bad' : 'tag ok', text: f.differs ? 'differs' : 'same' }),
      ]);
  }

  async function decide(h, verb, body, errBox) {
    errBox.textContent = '';
    try {
      const r = await api('POST', 'review/' + h.id + '/' + verb, body);
      flash = r.decision === 'rejected'
        ? 'Discarded held record ' + r.id + '; student ' + r.student + ' is unchanged.'
        : 'Held record ' + r.id + ' is now ' + r.student + ' version ' + r.version +
          (r.new_student ? ' (a new student).' : '.') +
          (r.state_id_stays_with ? ' Filed without its statewide id, which stays with ' +
            r.state_id_stays_with + ': check which is right.' : '');
      go('review');
    } catch (e) {
      errBox.textContent = e.message;
      message(e.message, 'error');
    }
  }

  function asForm(h, errBox) {
    const f = el('form', { class: 'card narrow', id: 'review-as-form', hidden: true },
      el('label', { for: 'review-as', text: 'File it as the student with id' }),
      el('input', { id: 'review-as', name: 'as', autocomplete: 'off', required: true,
        'aria-describedby': 'review-as-hint' }),
      el('p', { class: 'hint', id: 'review-as-hint', text: 'A new id makes a new student; the id ' +
        'of a student on file works only when that is the same child.' }),
      el('button', { type: 'submit', class: 'primary', text: 'File as that student' }));
    f.addEventListener('submit', ev => {
      ev.preventDefault();
      decide(h, 'accept', { as: f.querySelector('#review-as').value.trim() }, errBox);
    });
    return f;
  }

  async function detail(root, n) {
    const h = await api('GET', 'review/' + encodeURIComponent(n));
    root.append(el('h1', { text: 'Held record ' + h.id + ', naming ' + h.student }));
    // The held record's custody restrictions first: a safety field.
    const custody = Baton.custodyAlert((h.record || {}).custody, 'in the held record');
    if (custody) root.append(custody);
    root.append(el('p', {}, Baton.link('review', 'Back to the review queue')));
    const kv = el('dl', { class: 'kv card' },
      el('dt', { text: 'Names student' }), el('dd', { text: h.student }),
      el('dt', { text: 'From' }), el('dd', { text: fromText(h) }),
      el('dt', { text: 'Arrived' }), el('dd', { text: when(h.time) }));
    if (h.packet) kv.append(el('dt', { text: 'Packet' }), el('dd', { class: 'mono', text: h.packet }));
    root.append(kv, el('h2', { text: 'Who the record is about' }), identityTable(h));
    const errBox = el('p', { class: 'error', id: 'review-error', role: 'alert' });
    const form = asForm(h, errBox);
    root.append(el('h2', { text: 'Your decision' }),
      el('div', { class: 'row review-actions' },
        el('button', { type: 'button', class: 'primary', text: 'Accept as the next version of ' + h.student,
          onclick: () => decide(h, 'accept', {}, errBox) }),
        el('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'review-as-form',
          text: 'File as another student…', onclick: ev => {
            form.hidden = false;
            ev.currentTarget.setAttribute('aria-expanded', 'true');
            form.querySelector('#review-as').focus();
          } }),
        el('button', { type: 'button', class: 'danger', text: 'Reject',
          'aria-describedby': 'review-reject-hint', onclick: () => decide(h, 'reject', {}, errBox) })),
      el('p', { class: 'hint', id: 'review-reject-hint', text: 'Reject discards the held record; ' +
        h.student + ' stays as it is on file.' }),
      form, errBox);
  }

  Baton.page('review', {
    nav: 'Review', title: 'Review', admin: false,
    render: async (root, params) => (params[0] ? detail(root, params[0]) : queue(root)),
  });
})();
