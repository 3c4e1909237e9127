'use strict';
// Home: what needs the registrar now, a card per kind of thing to do, each
// with its count and links to where it is done.
(() => {
  const { el, link, when } = Baton;

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  // A card: heading, count, the first few items as links, and a link to all of them.
  function card(id, title, kind, what, item, more) {
    const list = el('ul', {}, kind.first.map(item));
    return el('section', { class: 'card todo', id: 'home-' + id, 'aria-labelledby': 'home-' + id + '-h' },
      el('h2', { id: 'home-' + id + '-h', text: title }),
      el('span', { class: 'count', text: String(kind.count) }),
      el('p', { class: 'hint', text: plural(kind.count, what[0], what[1]) }),
      kind.first.length ? list : null,
      kind.count > kind.first.length ? el('p', {}, link(more[0], more[1])) : null);
  }

  const outState = { queued: 'wait', rejected: 'bad', expired: 'bad' };

  Baton.page('home', {
    nav: 'Home',
    title: 'Home',
    render: async root => {
      root.append(el('h1', { text: 'What needs you' }));
      const h = await Baton.api('GET', 'home');
      if (h.total === 0) {
        root.append(el('p', { class: 'card', id: 'home-none', text: 'Nothing needs you: no request is held, no record waits for review, every packet is on its way and no consent on file expires in the next 14 days.' }));
        return;
      }
      const cards = [];
      if (h.requests.count) {
        cards.push(card('requests', 'Requests held for release', h.requests,
          ['request from another school waits for your answer', 'requests from other schools wait for your answer'],
          r => el('li', {}, link('requests', 'Student ' + r.student + ' for ' + (r.school || r.from)),
            ' · ' + r.purpose + ' · ' + when(r.time)),
          ['requests', 'All held requests']));
      }
      if (h.review.count) {
        cards.push(card('review', 'Records waiting for review', h.review,
          ['record arrived that does not match the child on file', 'records arrived that do not match the child on file'],
          r => el('li', {}, link('review', 'Student ' + r.student + (r.from ? ' from ' + r.from : '')),
            ' · ' + when(r.time)),
          ['review', 'The review queue']));
      }
      if (h.outbox.count) {
        cards.push(card('outbox', 'Deliveries in trouble', h.outbox,
          ['packet was refused, expired or keeps failing', 'packets were refused, expired or keep failing'],
          e => el('li', {}, link('transfers', e.kind + ' of ' + e.student + ' to ' + e.to), ' ',
            el('span', { class: 'tag ' + (outState[e.state] || 'bad'), text: e.state }),
            ' · ' + plural(e.attempts, 'attempt', 'attempts')),
          ['transfers', 'The outbox']));
      }
      if (h.consents.count) {
        cards.push(card('consents', 'Consents about to expire', h.consents,
          ['consent on file expires within 14 days', 'consents on file expire within 14 days'],
          c => el('li', {}, link('students/' + encodeURIComponent(c.student), 'Student ' + c.student),
            ' · to ' + c.to + ' · expires ' + when(c.expires)),
          ['students', 'Students']));
      }
      root.append(el('div', { class: 'grid' }, cards));
    },
  });
})();
