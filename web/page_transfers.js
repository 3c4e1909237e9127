'use strict';
// Inbox & outbox: each packet's state, attempts and next attempt, its
// receipt, with dates; a queued packet can be tried again now.
(() => {
  const { el, when } = Baton;

  const outTag = { queued: 'wait', sent: 'wait', receipted: 'ok', delivered: 'ok', answered: 'ok',
    rejected: 'bad', expired: 'bad', denied: 'bad' };
  function tag(state, kind) { return el('span', { class: 'tag nowrap ' + (kind || ''), text: state }); }
  function nowrap(text) { return el('span', { class: 'nowrap', text }); }

  async function retry(e) {
    try {
      await Baton.api('POST', 'outbox/' + e.packet + '/retry');
      await Baton.route();
      Baton.message('The packet to ' + e.to + ' will be tried again now.', 'okay');
    } catch (err) {
      Baton.message(err.message, 'error');
    }
  }

  function outRow(e) {
    const answer = e.reason ? e.reason + (e.last_error ? ': ' + e.last_error : '') : e.last_error;
    return [
      nowrap(when(e.created)),
      e.kind,
      nowrap(e.to),
      nowrap(e.student),
      tag(e.state, outTag[e.state]),
      String(e.attempts),
      e.state === 'queued' ? nowrap(when(e.next_try)) : '',
      e.terms && e.terms !== 'none'
        ? el('span', {}, answer || '', answer ? el('br') : '',
          el('span', { class: 'terms-state', text: 'Redisclosure terms ' + e.terms }))
        : answer || '',
      nowrap(when(e.expires)),
      e.state === 'queued'
        ? el('button', { type: 'button', class: 'retry', text: 'Retry now',
          'aria-label': 'Retry now: the ' + e.kind + ' of ' + e.student + ' to ' + e.to, onclick: () => retry(e) })
        : el('span', { class: 'mono', text: e.packet.slice(0, 8) }),
    ];
  }

  function inRow(e) {
    // The redisclosure terms (34 CFR 99.33) that came with the record, in full.
    const note = e.terms
      ? el('span', {}, e.note || '', el('details', { class: 'terms' },
        el('summary', { text: 'Redisclosure terms from ' + e.from }),
        el('pre', { text: e.terms })))
      : e.note || '';
    // An accepted record opens on the student's page, custody restrictions first.
    const student = e.student && e.result === 'accepted'
      ? el('span', { class: 'nowrap' }, Baton.link('students/' + encodeURIComponent(e.student), e.student))
      : nowrap(e.student || '');
    return [nowrap(when(e.time)), nowrap(e.from), student, tag(e.result, e.result === 'accepted' ? 'ok' : 'bad'),
      note, el('span', { class: 'mono', text: e.packet.slice(0, 8) })];
  }

  async function render(root) {
    const [outbox, inbox] = await Promise.all([Baton.api('GET', 'outbox'), Baton.api('GET', 'inbox')]);
    root.append(el('h1', { text: 'Inbox & outbox' }));
    root.append(el('div', { class: 'actions' },
      el('button', { type: 'button', text: 'Reload', onclick: () => Baton.route() })));
    root.append(el('h2', { id: 'outbox-h', text: 'Outbox: packets sent from here' }));
    if (!outbox.length) root.append(el('p', { text: 'The outbox is empty.' }));
    else root.append(Baton.table('Outbox', ['Made', 'Kind', 'To', 'Student', 'State', 'Attempts', 'Next attempt',
      'Answer or last error', 'Expires', 'Packet'], outbox.slice().reverse(), outRow));
    root.append(el('h2', { id: 'inbox-h', text: 'Inbox: packets received' }));
    if (!inbox.length) root.append(el('p', { text: 'The inbox is empty.' }));
    else root.append(Baton.table('Inbox', ['Arrived', 'From', 'Student', 'Receipt', 'Note', 'Packet'],
      inbox.slice().reverse(), inRow));
  }

  Baton.page('transfers', { nav: 'Inbox & outbox', title: 'Inbox & outbox', render });
})();
