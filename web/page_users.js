'use strict';
// Users (admin): the console's accounts, as 'baton user' keeps them. An
// admin adds a registrar or an admin, sets a new password, removes an
// account (whose sessions end with it); never their own while signed in.
(() => {
  const { el, api, message, table, when } = Baton;

  function passwordForm(u, reload) {
    const id = 'pw-' + u.name;
    const box = el('div');
    const open = el('button', { type: 'button', text: 'Set a password for ' + u.name + '…' });
    open.addEventListener('click', () => {
      const err = el('p', { class: 'error', role: 'alert' });
      const input = el('input', { id, type: 'password', autocomplete: 'new-password', minlength: '10' });
      const form = el('form', {},
        el('label', { for: id, text: 'New password for ' + u.name }), input,
        el('button', { type: 'submit', class: 'primary', text: 'Set the password of ' + u.name }), err);
      form.addEventListener('submit', async ev => {
        ev.preventDefault();
        try {
          await api('POST', 'users/' + encodeURIComponent(u.name) + '/password', { password: input.value });
          input.value = '';
          await reload();
          message('The password of ' + u.name + ' is changed.', 'okay');
        } catch (e) { err.textContent = e.message; message(e.message, 'error'); }
      });
      box.textContent = '';
      box.append(form);
      input.focus();
    });
    box.append(open);
    return box;
  }

  function removeButton(u, reload) {
    const box = el('div');
    const ask = el('button', { type: 'button', text: 'Remove ' + u.name + '…' });
    ask.addEventListener('click', () => {
      box.textContent = '';
      box.append(el('p', { class: 'hint', text: u.name + ' is signed out at once and cannot sign in again.' }),
        el('button', {
          type: 'button', class: 'danger', text: 'Yes, remove ' + u.name,
          onclick: async () => {
            try {
              await api('DELETE', 'users/' + encodeURIComponent(u.name));
              await reload();
              message(u.name + ' is removed.', 'okay');
            } catch (e) { message(e.message, 'error'); }
          },
        }));
    });
    box.append(ask);
    return box;
  }

  function addForm(reload) {
    const err = el('p', { id: 'add-error', class: 'error', role: 'alert' });
    const form = el('form', { class: 'card', 'aria-labelledby': 'add-user-title' },
      el('h2', { id: 'add-user-title', text: 'Add a user' }),
      el('div', { class: 'row' },
        el('div', {}, el('label', { for: 'u-name', text: 'User name' }),
          el('input', { id: 'u-name', autocomplete: 'off', required: true, 'aria-describedby': 'u-name-hint' })),
        el('div', {}, el('label', { for: 'u-role', text: 'Role' }),
          el('select', { id: 'u-role' },
            el('option', { value: 'registrar', text: 'Registrar: the daily work' }),
            el('option', { value: 'admin', text: 'Admin: users and schools too' }))),
        el('div', {}, el('label', { for: 'u-password', text: 'Password' }),
          el('input', { id: 'u-password', type: 'password', autocomplete: 'new-password', required: true, 'aria-describedby': 'u-pass-hint' }))),
      el('p', { id: 'u-name-hint', class: 'hint', text: 'Letters, digits, “.”, “-”, “_” and “@”.' }),
      el('p', { id: 'u-pass-hint', class: 'hint', text: 'At least 10 characters. Give it to the person in a way nobody else overhears; they can ask an admin to change it.' }),
      el('button', { type: 'submit', class: 'primary', text: 'Add the user' }), err);
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      err.textContent = '';
      const pw = form.querySelector('#u-password');
      const body = { name: form.querySelector('#u-name').value.trim(), role: form.querySelector('#u-role').value, password: pw.value };
      try {
        const r = await api('POST', 'users', body);
        pw.value = '';
        await reload();
        message(r.name + ' is added as ' + r.role + '.', 'okay');
      } catch (e) { err.textContent = e.message; message(e.message, 'error'); }
    });
    return form;
  }

  Baton.page('users', {
    nav: 'Users', title: 'Users', admin: true,
    render: async root => {
      const self = Baton.me().user;
      const reload = () => Baton.route();
      root.append(el('h1', { text: 'Users of the console' }));
      const { users } = await api('GET', 'users');
      root.append(el('section', { class: 'card', 'aria-labelledby': 'users-title' },
        el('h2', { id: 'users-title', text: 'Accounts' }),
        table('Accounts of the console', ['Name', 'Role', 'Added', 'Last sign-in', 'Password', 'Remove'], users, u => [
          u.name + (u.name === self ? ' (you)' : ''),
          el('span', { class: 'tag' + (u.role === 'admin' ? ' wait' : ''), text: u.role }),
          when(u.created), u.last_login ? when(u.last_login) : 'never',
          passwordForm(u, reload),
          u.name === self ? el('span', { class: 'hint', text: 'Another admin can remove you.' }) : removeButton(u, reload),
        ])));
      root.append(addForm(reload));
    },
  });
})();
