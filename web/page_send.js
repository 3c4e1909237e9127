'use strict';
// Send: a student, a receiving school and a consent (on file, or the
// family's file uploaded); every release rule's verdict before anything is
// sealed; then the send. A class moving on together: many consent files,
// sent one by one with a live progress bar and each student's outcome.
(() => {
  const { el, api, message, table, when, tag, field, errorBox, showError } = Baton;

  // The bytes of an ArrayBuffer in base64, as the API takes a consent file.
  function base64(buf) {
    const b = new Uint8Array(buf);
    let s = '';
    for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
    return btoa(s);
  }

  const spaced = s => s.replace(/,/g, ', ');


  const verdictTag = {
    passed: () => tag('ok', '✓ passes'),
    failed: () => tag('bad', '✗ fails'),
    'not checked': () => tag('wait', '– not checked'),
  };

  function consentState(s) {
    return tag(s === 'valid' ? 'ok' : s === 'not yet valid' ? 'wait' : 'bad', s);
  }

  async function schoolSelect(id) {
    const sel = el('select', { id });
    const { schools } = await api('GET', 'send/schools');
    if (!schools.length) sel.append(el('option', { value: '', text: 'No school is pinned yet' }));
    for (const s of schools) sel.append(el('option', { value: s.code, text: s.name + ' (' + s.code + ')' }));
    return sel;
  }

  function schoolName(sel) {
    const o = sel.selectedOptions[0];
    return o && o.value ? o.textContent.replace(/ \([^)]*\)$/, '') : 'the other school';
  }

  // ---- one student ----
  function oneStudent(root, preset, schools, students) {
    const student = el('input', { id: 'send-student', type: 'search', autocomplete: 'off',
      list: 'send-students', value: preset || '', 'aria-describedby': 'send-student-hint' });
    const list = el('datalist', { id: 'send-students' }, students.map(s => el('option', { value: s })));
    const onFile = el('select', { id: 'send-consent' });
    const file = el('input', { id: 'send-file', type: 'file', accept: '.consent,application/octet-stream',
      'aria-describedby': 'send-file-hint' });
    const record = el('button', { type: 'button', id: 'send-record', disabled: true,
      text: 'Keep this file on record' });
    const check = el('button', { type: 'submit', id: 'send-check', text: 'Check the release rules' });
    const send = el('button', { type: 'button', id: 'send-go', class: 'primary', disabled: true });
    const formErr = errorBox('send-error');
    const verdict = el('div', { id: 'send-verdict', 'aria-live': 'polite' });
    const result = el('div', { id: 'send-result', 'aria-live': 'polite' });
    let upload = null; // {name, bytes}
    let checked = null; // the body the verdict is for

    function sendLabel() {
      send.textContent = 'Send the record to ' + schoolName(schools);
    }
    function stale() {
      checked = null;
      send.disabled = true;
      verdict.textContent = '';
    }

    // The consents on file for the student; the last call wins.
    let loads = 0;
    async function loadOnFile() {
      const seq = ++loads, id = student.value.trim();
      let found = [];
      if (id) {
        try { found = await api('GET', 'consents?student=' + encodeURIComponent(id)); } catch (e) { showError(formErr, e); }
      }
      if (seq !== loads) return;
      onFile.textContent = '';
      onFile.append(el('option', { value: '',
        text: upload ? 'Use the uploaded file (' + upload.name + ')'
          : id && !found.length ? 'No consent on file for ' + id + ': upload one' : 'Choose a consent…' }));
      for (const c of found) {
        onFile.append(el('option', { value: c.id,
          text: c.status + ': to ' + c.to + ', ' + spaced(c.sections) + ', until ' + when(c.expires) + ' (' + c.id.slice(0, 8) + '…)' }));
      }
    }

    function body() {
      const b = { student: student.value.trim(), to: schools.value };
      if (onFile.value) b.consent = onFile.value;
      else if (upload) b.consent_file = base64(upload.bytes);
      return b;
    }

    async function onCheck(ev) {
      ev.preventDefault();
      showError(formErr, null);
      stale();
      result.textContent = '';
      try {
        const b = body();
        const v = await api('POST', 'send/check', b);
        showVerdict(v);
        if (v.allowed) checked = b;
        send.disabled = !v.allowed;
      } catch (e) { showError(formErr, e); }
    }

    function showVerdict(v) {
      verdict.textContent = '';
      const fails = v.rules.filter(r => r.state === 'failed').length;
      verdict.append(el('h2', { text: 'The release rules' }),
        v.allowed
          ? el('p', { class: 'okay', text: 'Every rule passes. Would release to ' + v.to_name + ': ' + spaced(v.sections) + '.' })
          : el('p', { class: 'error', text: (fails === 1 ? 'One rule fails' : fails + ' of ' + v.rules.length + ' rules fail') + ': nothing can be sent under this consent.' }),
        table('Each release rule and its verdict', ['Rule', 'Verdict', 'Why'], v.rules,
          r => [r.title, verdictTag[r.state](), r.rule === 'sections' ? spaced(r.why) : r.why]));
    }

    async function onSend() {
      if (!checked) return;
      send.disabled = true;
      showError(formErr, null);
      try {
        const r = await api('POST', 'send', checked);
        result.textContent = '';
        result.append(el('div', { class: 'card' },
          el('h2', { text: 'Sent' }),
          el('dl', { class: 'kv' },
            el('dt', { text: 'Student' }), el('dd', { text: r.student }),
            el('dt', { text: 'To' }), el('dd', { text: schoolName(schools) + ' (' + r.to + ')' }),
            el('dt', { text: 'Sections' }), el('dd', { text: spaced(r.sections) }),
            el('dt', { text: 'Packet' }), el('dd', { class: 'mono', id: 'send-packet', text: r.packet }),
            el('dt', { text: 'State' }), el('dd', {}, tag('wait', r.state))),
          el('p', {}, 'The node delivers it and shows the receipt on ',
            Baton.link('transfers', 'the Transfers page'), '.')));
        message('The record of ' + r.student + ' is sealed and queued for ' + schoolName(schools) + '.', 'okay');
        checked = null;
      } catch (e) { showError(formErr, e); }
    }

    async function onFileChosen() {
      const f = file.files[0];
      upload = f ? { name: f.name, bytes: await f.arrayBuffer() } : null;
      record.disabled = !upload;
      stale();
      await loadOnFile();
    }

    async function onRecord() {
      showError(formErr, null);
      try {
        const r = await api('POST', 'consents', upload.bytes, true);
        message(r.type === 'revocation'
          ? 'The revocation of consent ' + r.consent + ' is on record' + (r.effective ? ': it will not be used again.' : '.')
          : 'Consent ' + r.id + ' for ' + r.student + ' is on record.', 'okay');
        if (r.type === 'consent' && !student.value) student.value = r.student;
        await loadOnFile();
        if (r.type === 'consent') onFile.value = r.id;
        stale();
      } catch (e) { showError(formErr, e); }
    }

    student.addEventListener('change', () => { stale(); loadOnFile(); });
    schools.addEventListener('change', () => { stale(); sendLabel(); });
    onFile.addEventListener('change', stale);
    file.addEventListener('change', onFileChosen);
    record.addEventListener('click', onRecord);
    send.addEventListener('click', onSend);
    sendLabel();
    loadOnFile();

    root.append(el('form', { class: 'card', id: 'send-form', onsubmit: onCheck },
      el('h2', { text: 'One student' }),
      el('div', { class: 'grid' },
        field('send-student', 'Student id', student, 'The student whose record goes; the list holds those with a consent on file.'),
        list,
        field('send-to', 'Receiving school', schools)),
      el('div', { class: 'grid' },
        field('send-consent', 'Consent on file', onFile),
        field('send-file', 'Or the family\'s consent file', file, 'A .consent file the parent (or the eligible student) signed.')),
      el('div', { class: 'row' }, check, record, send),
      formErr), verdict, result);
  }

  // ---- a cohort ----
  function cohort(root, schools) {
    const files = el('input', { id: 'cohort-files', type: 'file', multiple: true, accept: '.consent',
      'aria-describedby': 'cohort-files-hint' });
    const folder = el('input', { id: 'cohort-folder', type: 'file', webkitdirectory: true });
    const go = el('button', { type: 'submit', id: 'cohort-go', class: 'primary', disabled: true });
    const bar = el('progress', { id: 'cohort-progress', max: 1, value: 0, hidden: true, 'aria-labelledby': 'cohort-status' });
    const status = el('p', { id: 'cohort-status', 'aria-live': 'polite' });
    const out = el('div', { id: 'cohort-results' });
    const err = errorBox('cohort-error');
    let chosen = [];

    function label() {
      go.textContent = chosen.length
        ? 'Send ' + chosen.length + ' record' + (chosen.length === 1 ? '' : 's') + ' to ' + schoolName(schools)
        : 'Choose consent files first';
      go.disabled = !chosen.length || !schools.value;
    }
    function pick(input) {
      chosen = [...input.files].filter(f => f.name.endsWith('.consent')).sort((a, b) => a.name < b.name ? -1 : 1);
      (input === files ? folder : files).value = '';
      out.textContent = '';
      status.textContent = chosen.length ? chosen.length + ' consent files chosen.' : 'No .consent file among those chosen.';
      label();
    }

    async function run(ev) {
      ev.preventDefault();
      showError(err, null);
      const to = schools.value, list = chosen, rows = [];
      let sent = 0, refused = 0;
      go.disabled = true;
      bar.max = list.length;
      bar.value = 0;
      bar.hidden = false;
      out.textContent = '';
      const say = () => {
        status.textContent = (sent + refused) + ' of ' + list.length + ' done: ' + sent + ' sent, ' + refused + ' refused';
      };
      say();
      for (const f of list) {
        const row = { file: f.name };
        try {
          const r = await api('POST', 'send', { to, consent_file: base64(await f.arrayBuffer()) });
          Object.assign(row, { student: r.student, ok: true, what: 'packet ' + r.packet });
          sent++;
        } catch (e) {
          if (e.status === 0 || e.status === 401 || e.status >= 500) { showError(err, e); break; }
          // A refusal names the student the consent is for, when it could be read: "S-1004: why".
          const m = e.message.match(/^([^\s:]+): (.*)$/s);
          Object.assign(row, { student: m ? m[1] : '', ok: false, what: m ? m[2] : e.message });
          refused++;
        }
        rows.push(row);
        bar.value = sent + refused;
        say();
      }
      out.append(table('Each student\'s outcome', ['File', 'Student', 'Outcome', 'Packet, or why not'], rows,
        r => [el('span', { class: 'mono', text: r.file }), r.student, r.ok ? tag('ok', 'sent') : tag('bad', 'refused'), r.what]));
      message(sent + ' of ' + list.length + ' records sent to ' + schoolName(schools) + ', ' + refused + ' refused.',
        refused ? 'error' : 'okay');
      label();
    }

    files.addEventListener('change', () => pick(files));
    folder.addEventListener('change', () => pick(folder));
    schools.addEventListener('change', label);
    label();
    root.append(el('form', { class: 'card', id: 'cohort-form', onsubmit: run },
      el('h2', { text: 'A class moving on together' }),
      el('p', { class: 'hint', text: 'Each consent file goes to the student it names; a refused one does not stop the others.' }),
      el('div', { class: 'grid' },
        field('cohort-files', 'Consent files', files, 'Choose many files at once, or a whole folder below.'),
        field('cohort-folder', 'Or a folder of consent files', folder),
        field('cohort-to', 'Receiving school', schools)),
      el('div', { class: 'row' }, go), bar, status, err), out);
  }

  Baton.page('send', {
    nav: 'Send',
    title: 'Send a record',
    render: async (root, params) => {
      root.append(el('h1', { text: 'Send a record' }),
        el('p', { class: 'hint', text: 'Choose the student, the school and the family\'s consent; check every release rule; then send.' }));
      const [one, many, consents] = await Promise.all([
        schoolSelect('send-to'), schoolSelect('cohort-to'), api('GET', 'consents')]);
      const students = [...new Set(consents.map(c => c.student))].sort();
      oneStudent(root, params[0], one, students);
      cohort(root, many);
    },
  });
})();
