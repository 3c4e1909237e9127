'use strict';
// Requests: what other schools asked for, held until the registrar releases
// the record or denies the request with a reason; answered ones below.
(() => {
  const { el, when } = Baton;

  const stateTag = { held: 'wait', released: 'ok', denied: 'bad' };
  function nowrap(text) { return el('span', { class: 'nowrap', text }); }
  function tag(state) { return el('span', { class: 'tag ' + (stateTag[state] || ''), text: state }); }

  async function release(r, box, again) {
    box.textContent = '';
    try {
      const a = await Baton.api('POST', 'requests/' + r.request + '/release');
      await again();
      Baton.message('Released: ' + a.student + '\'s record (' + a.sections.split(',').join(', ') + ') is on its way to ' + (r.school || a.to) + '.', 'okay');
    } catch (e) {
      box.append(el('p', { class: 'error', role: 'alert', text: e.message }));
      Baton.message(e.message, 'error');
    }
  }

  // The deny form: a reason is required; it goes to the school that asked.
  function denyForm(r, box, again) {
    const id = 'reason-' + r.request;
    const err = el('p', { class: 'error', role: 'alert', hidden: true });
    const input = el('textarea', { id, name: 'reason', 'aria-required': 'true', maxlength: 512,
      'aria-describedby': id + '-hint' });
    const form = el('form', { class: 'deny' },
      el('label', { for: id, text: 'Reason for denying' }),
      el('p', { class: 'hint', id: id + '-hint', text: (r.school || r.from) + ' receives this reason with the refusal, signed by this school.' }),
      input, err,
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'danger', text: 'Deny the request' }),
        el('button', { type: 'button', text: 'Cancel', onclick: () => { box.textContent = ''; } })));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      err.hidden = true;
      try {
        await Baton.api('POST', 'requests/' + r.request + '/deny', { reason: input.value });
        await again();
        Baton.message('Denied the request of ' + (r.school || r.from) + ' for ' + r.student + '; the refusal is on its way.', 'okay');
      } catch (e) {
        err.textContent = e.message;
        err.hidden = false;
        Baton.message(e.message, 'error');
        input.focus();
      }
    });
    box.textContent = '';
    box.append(form);
    input.focus();
  }

  function heldCard(r, again) {
    const box = el('div');
    return el('section', { class: 'card request', 'aria-labelledby': 'req-' + r.request },
      el('h2', { id: 'req-' + r.request, text: 'Student ' + r.student + ' for ' + (r.school ? r.school + ' (' + r.from + ')' : r.from) }),
      el('dl', { class: 'kv' },
        el('dt', { text: 'Purpose' }), el('dd', { text: r.purpose }),
        el('dt', { text: 'Note' }), el('dd', { text: r.note || '(none)' }),
        el('dt', { text: 'Sections' }), el('dd', { text: r.sections.split(',').join(', ') }),
        el('dt', { text: 'Arrived' }), el('dd', { text: when(r.time) }),
        el('dt', { text: 'Request' }), el('dd', { class: 'mono', text: r.request })),
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'primary', text: 'Release the record to ' + (r.school || r.from),
          onclick: () => release(r, box, again) }),
        el('button', { type: 'button', text: 'Deny…', 'aria-label': 'Deny… the request of ' + (r.school || r.from) + ' for ' + r.student,
          onclick: () => denyForm(r, box, again) })),
      box);
  }

  // The admin's release policy: requests answered at once, or held (the default).
  async function policyCard() {
    const p = await Baton.api('GET', 'policy/auto-release');
    const box = el('input', { type: 'checkbox', id: 'auto-release', checked: p.auto_release });
    const form = el('form', { class: 'card', id: 'policy', 'aria-labelledby': 'policy-h' },
      el('h2', { id: 'policy-h', text: 'Release policy' }),
      el('label', { for: 'auto-release' }, box,
        'Release the record at once when a request\'s consent passes every release rule'),
      el('p', { class: 'hint', text: 'Off, every request waits here for a registrar.' }),
      el('button', { type: 'submit', text: 'Save the release policy' }));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      try {
        const a = await Baton.api('PUT', 'policy/auto-release', { auto_release: box.checked });
        Baton.message(a.auto_release ? 'Requests with a valid consent are now released at once.'
          : 'Requests now wait for a registrar.', 'okay');
      } catch (e) {
        Baton.message(e.message, 'error');
      }
    });
    return form;
  }

  // The admin's enrolment exception (34 CFR 99.31(a)(2)) and the annual notice it needs.
  async function enrolCard() {
    const p = await Baton.api('GET', 'policy/enrolment-exception');
    const box = el('input', { type: 'checkbox', id: 'enrol-on', checked: p.on });
    const sens = el('input', { type: 'text', id: 'enrol-sensitive', value: p.sensitive, autocomplete: 'off' });
    const notice = el('textarea', { id: 'enrol-notice', rows: '5' });
    notice.value = p.notice;
    const form = el('form', { class: 'card', id: 'enrolment-policy', 'aria-labelledby': 'enrol-h' },
      el('h2', { id: 'enrol-h', text: 'Enrolment exception' }),
      el('label', { for: 'enrol-on' }, box,
        'Enrolling: send the record without consent to a school where the student is enrolling, on that school\'s signed statement'),
      el('p', { class: 'hint', text: 'Only for the child on file the statement describes; another child waits here. Off, such requests wait here and cannot be released without a consent.' }),
      el('label', { for: 'enrol-sensitive', text: 'Sensitive sections released too (e.g. health; empty: none)' }), sens,
      el('label', { for: 'enrol-notice', text: 'Annual notice to families (required to turn it on)' }), notice,
      el('button', { type: 'submit', text: 'Save the enrolment exception' }));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      try {
        const body = { on: box.checked, sensitive: sens.value.trim() };
        if (notice.value.trim()) body.notice = notice.value.trim(); // empty: the notice kept
        const a = await Baton.api('PUT', 'policy/enrolment-exception', body);
        Baton.message(a.on ? 'The enrolment exception is on.' : 'The enrolment exception is off.', 'okay');
      } catch (e) {
        Baton.message(e.message, 'error');
      }
    });
    return form;
  }

  async function render(root) {
    const all = await Baton.api('GET', 'requests');
    const held = all.filter(r => r.state === 'held');
    const done = all.filter(r => r.state !== 'held');
    const again = () => Baton.route();
    root.append(el('h1', { text: 'Requests from other schools' }));
    root.append(el('h2', { text: held.length ? 'Waiting for you (' + held.length + ')' : 'Waiting for you' }));
    if (!held.length) root.append(el('p', { text: 'No request waits for you.' }));
    for (const r of held) root.append(heldCard(r, again));
    if (done.length) {
      root.append(el('h2', { text: 'Answered' }));
      root.append(Baton.table('Requests answered', ['Arrived', 'From', 'Student', 'Purpose', 'State', 'Answer'],
        done, r => [nowrap(when(r.time)), nowrap(r.from), nowrap(r.student), r.purpose, tag(r.state),
          r.state === 'denied' ? r.reason : el('span', { class: 'mono', text: 'packet ' + r.packet })]));
    }
    if (Baton.me().role === 'admin') root.append(await policyCard(), await enrolCard());
  }

  Baton.page('requests', { nav: 'Requests', title: 'Requests', render });
})();
