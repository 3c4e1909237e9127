'use strict';
// Students: the search (#/students), one record section by section with its
// versions, attachments and guardians' keys (#/students/ID, and
// #/students/ID/versions/N for an older version), and the import of a file
// of records with a preview before anything is stored (#/import).
(() => {
  const { el, api, table, when, link, message, tag } = Baton;
  const PAGE = 100;
  let lastTerm = ''; // the last search, kept in memory only: never in the address

  const enc = encodeURIComponent;


  const LABELS = { gpa_weighted: 'GPA weighted', gpa_unweighted: 'GPA unweighted', iep: 'IEP',
    iep_begin_date: 'IEP begin date', iep_end_date: 'IEP end date', section_504: 'Section 504' };
  function words(key) {
    if (LABELS[key]) return LABELS[key];
    const s = key.replace(/_/g, ' ');
    return s.charAt(0).toUpperCase() + s.slice(1);
  }
  // Values that are names from a list (RECORD.md), in words.
  const NAMED = ['status', 'attempt_result', 'promotion'];

  // Columns and pairs in the order proto/RECORD.md gives them; others after, as they come.
  const ORDER = ['given_name', 'middle_name', 'family_name', 'preferred_name', 'birth_date', 'sex',
    'name', 'relation', 'email', 'phone', 'school_name', 'school_code', 'school_year', 'term',
    'entry_date', 'exit_date', 'grade_level', 'course_code', 'course_title', 'grade',
    'credits_attempted', 'credits_earned', 'days_enrolled', 'days_present', 'days_absent_excused',
    'days_absent_unexcused', 'vaccine', 'subject', 'date', 'score', 'performance_level', 'iep',
    'disability_category', 'plan_date', 'services', 'conditions', 'allergies', 'immunizations',
    'incident', 'action', 'name_suffix', 'status', 'as_of', 'attempt_result', 'subject',
    'credit_type', 'state_course_code', 'credit_method', 'promotion', 'next_grade_level',
    'exit_reason', 'days_tardy', 'reason_not_tested', 'exemption', 'setting', 'hours_per_week',
    'iep_begin_date', 'iep_end_date', 'last_evaluation_date', 'eligible', 'disability',
    'begin_date', 'end_date', 'accommodations', 'home_language', 'programs',
    'primary_nighttime_residence', 'unaccompanied_youth', 'credits_earned', 'gpa_weighted',
    'gpa_unweighted', 'plan', 'expected_year', 'diplomas', 'type', 'level', 'description',
    'lives_with', 'primary_contact', 'emergency_contact', 'legal_guardian'];
  // Lists where an absent key means "not recorded" and [] "none known" (RECORD.md):
  // both are shown, and told apart.
  const RECORDED = { health: ['allergies', 'conditions'], special_education: ['services'] };
  function ordered(keys) {
    const rank = k => (ORDER.indexOf(k) + ORDER.length + 1) % (ORDER.length + 1);
    return keys.slice().sort((a, b) => rank(a) - rank(b));
  }

  function fullName(s) { return (s.given_name || '') + ' ' + (s.family_name || ''); }

  // ---- the search ----

  function heldTag(n) {
    return n > 0 ? tag('wait', n === 1 ? 'a record waits in review' : n + ' records wait in review') : '';
  }

  function resultsTable(students) {
    return table('Students found', ['Student id', 'Name', 'Birth date', 'State id', 'Version', 'Review'],
      students, s => [link('students/' + enc(s.student_id), s.student_id), fullName(s),
        s.birth_date, s.state_student_id, String(s.version), heldTag(s.held)]);
  }

  async function search(out, term, offset) {
    const q = (term ? 'q=' + enc(term) + '&' : '') + 'offset=' + offset + '&limit=' + PAGE;
    const r = await api('GET', 'students?' + q);
    if (offset === 0) out.textContent = '';
    else out.querySelector('.more')?.remove();
    if (r.total === 0) {
      out.append(el('p', { id: 'found', text: term ? 'No student matches "' + term + '".'
        : 'No students yet: import a file of records.' }));
      return;
    }
    if (offset === 0) {
      out.append(el('p', { id: 'found', text: (term ? r.total + (r.total === 1 ? ' student matches' : ' students match') + ' "' + term + '"'
        : r.total + (r.total === 1 ? ' student' : ' students') + ' on file') }));
    }
    out.append(resultsTable(r.students));
    const shown = offset + r.students.length;
    if (r.more) {
      out.append(el('p', { class: 'more' }, el('button', {
        type: 'button', text: 'Show the next ' + Math.min(PAGE, r.total - shown) + ' of ' + (r.total - shown) + ' more',
        onclick: () => search(out, term, shown).catch(e => message(e.message, 'error')),
      })));
    }
  }

  async function renderSearch(root) {
    const input = el('input', { id: 'student-q', type: 'search', name: 'q', autocomplete: 'off', value: lastTerm });
    const out = el('div', { id: 'student-results', 'aria-live': 'polite' });
    const err = el('p', { class: 'error', id: 'student-q-error', hidden: true });
    const form = el('form', { class: 'card', role: 'search' },
      el('label', { for: 'student-q', text: 'Search by name, id or state id' }),
      el('div', { class: 'row' }, input, el('button', { type: 'submit', class: 'primary', text: 'Search' })),
      el('p', { class: 'hint', text: 'Part of a name is enough; upper and lower case alike.' }), err);
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      lastTerm = input.value.trim();
      err.hidden = true;
      try {
        await search(out, lastTerm, 0);
      } catch (e) {
        err.textContent = e.message;
        err.hidden = false;
        message(e.message, 'error');
      }
    });
    root.append(el('h1', { text: 'Students' }), form,
      el('p', {}, link('import', 'Import a file of student records')), out);
    await search(out, lastTerm, 0);
  }

  // ---- one record ----

  function text(v) {
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.map(text).join(', ');
    if (typeof v === 'object') return Object.entries(v).map(([k, x]) => words(k) + ': ' + text(x)).join('; ');
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    return String(v);
  }

  function isRows(v) {
    return Array.isArray(v) && v.length > 0 && v.every(x => x && typeof x === 'object' && !Array.isArray(x));
  }

  function rowsTable(caption, v) {
    const keys = [];
    for (const x of v) for (const k of Object.keys(x)) if (!keys.includes(k)) keys.push(k);
    const cols = ordered(keys);
    // A wide table scrolls: a region of its own, reachable with the keyboard.
    const t = table(caption, cols.map(words), v, x => cols.map(k =>
      NAMED.includes(k) && typeof x[k] === 'string' ? x[k].replace(/_/g, ' ') : text(x[k])));
    t.setAttribute('tabindex', '0');
    t.setAttribute('role', 'region');
    t.setAttribute('aria-label', caption);
    return t;
  }

  function kv(obj, recorded) {
    const keys = Object.keys(obj);
    for (const k of recorded || []) if (!keys.includes(k)) keys.push(k);
    return el('dl', { class: 'kv' }, ordered(keys).flatMap(k => {
      const v = obj[k];
      const listed = (recorded || []).includes(k);
      const dd = v === undefined ? el('dd', { class: 'not-recorded', text: 'Not recorded' })
        : isRows(v) ? el('dd', {}, rowsTable(words(k), v))
          : el('dd', { text: (Array.isArray(v) && v.length === 0) || v === ''
            ? (listed ? 'None known' : 'none') : text(v) });
      return [el('dt', { text: words(k) }), dd];
    }));
  }

  // A section's value: a list of like objects as a table, an object as pairs.
  function sectionBody(name, v) {
    if (Array.isArray(v)) {
      if (v.length === 0) return el('p', { class: 'hint', text: 'None on file.' });
      if (isRows(v)) return rowsTable(words(name), v);
      return el('p', { text: text(v) });
    }
    if (v && typeof v === 'object') return kv(v, RECORDED[name]);
    return el('p', { text: text(v) });
  }

  // The family's statements of disagreement with a section (34 CFR 99.21),
  // shown with it: each travels with the section whenever it is sent.
  function statementsOf(name, list) {
    const mine = (list || []).filter(st => st.section === name);
    if (!mine.length) return null;
    return el('ul', { class: 'statements', id: 'statements-' + name }, mine.map(st =>
      el('li', { class: 'notice' },
        tag('wait', (st.role === 'student' ? 'The student' : 'The parent') + ' disagrees with this section'), ' ',
        el('p', { class: 'statement-text', text: st.text }),
        el('p', { class: 'hint' }, 'Signed by ', el('span', { class: 'mono', text: st.signer }), ' on ' + when(st.time) +
          (st.from ? ', received from ' + st.from : ', filed here')))));
  }

  function sectionCard(sec, statements) {
    const id = 'section-' + sec.name;
    return el('section', { class: 'card', id, 'aria-labelledby': id + '-h' },
      el('h2', { id: id + '-h' }, words(sec.name), sec.sensitive ? ' ' : '',
        sec.sensitive ? tag('bad', 'Sensitive') : ''),
      sectionBody(sec.name, sec.value), statementsOf(sec.name, statements));
  }

  function size(n) {
    if (n < 1024) return n + ' bytes';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1024 / 1024).toFixed(1) + ' MB';
  }

  function attachmentsCard(r) {
    const c = el('section', { class: 'card', id: 'attachments', 'aria-labelledby': 'attachments-h' },
      el('h2', { id: 'attachments-h', text: 'Attachments' }));
    if (r.attachments.length === 0) {
      c.append(el('p', { class: 'hint', text: 'No attachments.' }));
      return c;
    }
    c.append(table('Attachments', ['File', 'Type', 'Size', 'Section'], r.attachments, a => [
      Baton.downloadLink({ text: a.name, title: 'Download ' + a.name + ' (BLAKE2b ' + a.hash.slice(0, 16) + '…)' },
        'students/' + enc(r.student_id) + '/attachments/' + a.hash, a.name),
      a.media_type, size(a.size), words(a.section || '')]));
    return c;
  }

  function versionsCard(r) {
    const rows = r.versions.slice().reverse();
    return el('section', { class: 'card', id: 'versions', 'aria-labelledby': 'versions-h' },
      el('h2', { id: 'versions-h', text: 'Versions' }),
      el('p', { class: 'hint', text: 'Every version is kept. Pick one to view it.' }),
      table('Versions', ['Version', 'Filed', 'From', 'By'], rows, v => [
        v.version === r.version ? el('span', {}, 'Version ' + v.version + ' ', tag('ok', 'shown'))
          : link('students/' + enc(r.student_id) + (v.version === r.latest ? '' : '/versions/' + v.version),
            'Version ' + v.version + (v.version === r.latest ? ' (current)' : '')),
        when(v.time) || 'before the audit log',
        v.source === 'import' ? 'a file import' : v.source === 'review' ? 'a record accepted in review'
          : v.source ? 'school ' + v.source : '',
        v.by || '—']));
  }

  // The redisclosure terms (34 CFR 99.33) each record received came with.
  function termsCard(r) {
    const c = el('section', { class: 'card', id: 'terms', 'aria-labelledby': 'terms-h' },
      el('h2', { id: 'terms-h', text: 'Redisclosure terms' }),
      el('p', { class: 'hint', text: 'The terms the sending school disclosed this record under: do not pass it on except as they allow.' }));
    for (const t of r.terms) {
      c.append(el('h3', { text: 'From ' + t.from + ', ' + when(t.time) }), el('pre', { text: t.terms }));
    }
    return c;
  }

  function guardiansCard(r) {
    const c = el('section', { class: 'card', id: 'guardian-keys', 'aria-labelledby': 'guardian-keys-h' },
      el('h2', { id: 'guardian-keys-h', text: "Parents' keys" }),
      el('p', { class: 'hint', text: 'Only a parent whose key is linked here can sign a consent for this student.' }));
    if (r.guardian_keys.length === 0) c.append(el('p', { text: 'No key linked yet.' }));
    else c.append(table("Parents' keys", ['Relation', 'Fingerprint', 'Rights', 'Linked'], r.guardian_keys, g => [
      g.relation, el('span', { class: 'mono', text: g.fingerprint }),
      g.restricted ? tag('bad', 'restricted') : tag('ok', 'may consent'), when(g.linked)]));
    c.append(el('p', {}, link('guardians/' + enc(r.student_id), "Link a parent's key")));
    return c;
  }

  async function renderStudent(root, id, version) {
    const r = await api('GET', 'students/' + enc(id) + (version ? '/versions/' + enc(version) : ''));
    const ident = (r.sections.find(s => s.name === 'identity') || {}).value || {};
    root.append(el('p', {}, link('students', '← All students')),
      el('h1', {}, fullName(ident) + (ident.name_suffix ? ' ' + ident.name_suffix : '') + ' ',
        el('span', { class: 'mono', text: r.student_id })));
    // Custody restrictions first, before anything else about the student.
    const custody = r.sections.find(s => s.name === 'custody');
    if (custody) root.append(Baton.custodyAlert(custody.value) ||
      el('p', { class: 'hint', id: 'custody-none', text: 'Custody: no restriction known.' }));
    const facts = { 'Student id': r.student_id, 'State id': r.state_student_id || '—',
      'Version': r.version + ' of ' + r.latest };
    const filed = (r.versions.find(v => v.version === r.version) || {}).time;
    if (r.version === r.latest) facts['Updated'] = when(r.updated);
    else facts['Filed'] = when(filed) || 'before the audit log';
    root.append(el('div', { class: 'card' }, kv(facts),
      el('div', { class: 'row students-actions' },
        el('a', { class: 'button primary', href: '#/send/' + enc(r.student_id), text: 'Send this record' }),
        el('a', { class: 'button', href: '#/guardians/' + enc(r.student_id), text: "Link a parent's key" }),
        Baton.downloadLink({ id: 'export', class: 'button', text: 'Download the record (JSON)',
          title: 'As baton student export writes it: save its attachments, below, in a folder ' +
            r.student_id + '-files beside it' }, 'students/' + enc(r.student_id) + '/export', r.student_id + '.json'))));
    if (r.held_for_review > 0) {
      root.append(el('div', { class: 'card notice', role: 'note', id: 'held' }, tag('wait', 'Held for review'), ' ',
        (r.held_for_review === 1 ? 'A record naming this student waits' : r.held_for_review + ' records naming this student wait') +
        ' in review: it is not the child on file, so it was not made current. ',
        link('review', 'Open the review')));
    }
    if (r.version !== r.latest) {
      root.append(el('div', { class: 'card notice', role: 'note', id: 'old-version' }, tag('wait', 'Older version'), ' ',
        'You are viewing version ' + r.version + ' of ' + r.latest + '. ',
        link('students/' + enc(r.student_id), 'Show the current version')));
    }
    for (const sec of r.sections) if (sec.name !== 'custody') root.append(sectionCard(sec, r.statements));
    root.append(attachmentsCard(r), versionsCard(r), guardiansCard(r));
    if (r.terms && r.terms.length) root.append(termsCard(r));
  }

  Baton.page('students', {
    nav: 'Students', title: 'Students', admin: false,
    render: async (root, params) => {
      if (params.length === 0 || params[0] === '') return renderSearch(root);
      if (params.length === 3 && params[1] === 'versions') return renderStudent(root, params[0], params[2]);
      return renderStudent(root, params[0], null);
    },
  });

  // ---- the import ----

  const OUTCOME = {
    new: ['ok', 'new student'], new_version: ['wait', 'changed: a new version'],
    unchanged: ['', 'unchanged'], held: ['wait', 'held for review: another child under this id'],
  };

  // One row a record, in file order: what it would become, or its errors.
  function previewRows(p) {
    const rows = new Map();
    for (const s of p.students) rows.set(s.record, { record: s.record, id: s.student_id, name: fullName(s), result: s.result, errors: [] });
    for (const e of p.errors) {
      const n = e.record || 0;
      if (!rows.has(n)) rows.set(n, { record: n, id: e.student_id || '', name: '', errors: [] });
      rows.get(n).errors.push(e);
    }
    return [...rows.values()].sort((a, b) => a.record - b.record);
  }

  function previewTable(p) {
    return table('What the import would do, record by record', ['Record', 'Student id', 'Name', 'Outcome', 'Field', 'Error'],
      previewRows(p), r => {
        if (r.errors.length === 0) {
          const [kind, what] = OUTCOME[r.result] || ['', r.result];
          return [String(r.record), r.id, r.name, tag(kind, what), '', ''];
        }
        return [r.record ? String(r.record) : 'the file', r.id, r.name, tag('bad', 'error'),
          el('span', { class: 'mono' }, r.errors.map(e => e.field || '—').join(', ')),
          el('span', { class: 'error' }, r.errors.map(e => e.message || e.error).join(' · '))];
      });
  }

  function summary(p) {
    const parts = [p.records + (p.records === 1 ? ' record' : ' records') + ' in the file'];
    if (p.new) parts.push(p.new + ' new');
    if (p.new_versions) parts.push(p.new_versions + ' changed');
    if (p.unchanged) parts.push(p.unchanged + ' unchanged');
    if (p.held) parts.push(p.held + ' held for review');
    if (p.bad_records) parts.push(p.bad_records + ' with errors');
    return parts.join(', ') + '.';
  }

  async function renderImport(root) {
    const input = el('input', { id: 'import-file', type: 'file', accept: '.json,application/json' });
    const err = el('p', { class: 'error', id: 'import-error', role: 'alert', hidden: true });
    const out = el('div', { id: 'import-preview' });
    const button = el('button', { type: 'button', class: 'primary', id: 'import-go', disabled: true, text: 'Import' });
    const why = el('p', { class: 'hint', id: 'import-why', text: 'Choose a file to see what it holds first.' });
    let file = null;

    function fail(e) {
      err.textContent = e.message;
      err.hidden = false;
      message(e.message, 'error');
    }

    async function preview() {
      err.hidden = true;
      out.textContent = '';
      button.disabled = true;
      button.textContent = 'Import';
      file = input.files[0] || null;
      if (!file) return;
      why.textContent = 'Checking ' + file.name + '…';
      let p;
      try {
        p = await api('POST', 'students/import?dry_run=1', file, true);
      } catch (e) {
        why.textContent = 'Nothing was stored.';
        return fail(e);
      }
      out.append(el('h2', { text: 'Preview of ' + file.name }), el('p', { id: 'import-summary', text: summary(p) }));
      // A large file's table shows its first records; the counts cover them all.
      if (p.more) out.append(el('p', { class: 'hint', id: 'import-more', text: 'The table lists the first ' + p.students.length + ' good records; ' + p.more + (p.more === 1 ? ' more is' : ' more are') + ' counted above but not listed.' }));
      out.append(previewTable(p));
      button.textContent = 'Import ' + p.records + (p.records === 1 ? ' record' : ' records');
      button.disabled = p.bad_records > 0;
      why.textContent = p.bad_records > 0
        ? 'Correct the ' + (p.bad_records === 1 ? 'record' : p.bad_records + ' records') +
          ' with errors in the file and choose it again: nothing is imported while any record has an error. Nothing was stored.'
        : 'Nothing is stored until you import.';
    }

    async function doImport() {
      if (!file) return;
      button.disabled = true;
      try {
        const r = await api('POST', 'students/import', file, true);
        const text = 'Imported ' + r.records + (r.records === 1 ? ' record' : ' records') + ': ' + r.new + ' new, ' +
          r.new_versions + ' changed, ' + r.unchanged + ' unchanged' + (r.held ? ', ' + r.held + ' held for review' : '') + '.';
        message(text, 'okay');
        why.textContent = 'Choose another file to import more.';
        out.textContent = '';
        out.append(el('p', { id: 'import-done', class: 'okay', text }), el('p', {}, link('students', 'Find them among the students')),
          r.held ? el('p', {}, link('review', 'Open the review')) : '');
        input.value = '';
        file = null;
        button.textContent = 'Import';
      } catch (e) {
        button.disabled = false;
        fail(e);
      }
    }

    input.addEventListener('change', preview);
    button.addEventListener('click', doImport);
    root.append(el('p', {}, link('students', '← Students')), el('h1', { text: 'Import student records' }),
      el('div', { class: 'card' },
        el('label', { for: 'import-file', text: 'File of student records (JSON)' }), input,
        el('p', { class: 'hint', text: 'One student object or an array of them, as proto/RECORD.md describes. ' +
          'You see every error, and what happens to each record (the first 1,000 listed), before anything is stored; the import is all or nothing. ' +
          'Records with attachment files are imported with the command line (baton student import).' }),
        err, button, why),
      out);
  }

  Baton.page('import', { title: 'Import student records', admin: false, render: renderImport });
})();
