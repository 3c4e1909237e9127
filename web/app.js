'use strict';
// The console's script: signs in through the API and shows who is signed in.
// The CSRF token lives only in this page's memory; the session cookie is HttpOnly.
let csrf = null;

function $(id) { return document.getElementById(id); }

function show(who) {
  $('login').hidden = !!who;
  $('who').hidden = !who;
  if (who) {
    $('who-name').textContent = who.user;
    $('who-role').textContent = who.role;
  }
}

async function call(method, path, body) {
  const headers = { 'Accept': 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try { data = await r.json(); } catch (e) { /* an empty or non-JSON answer */ }
  return { status: r.status, data };
}

async function refresh() {
  const r = await call('GET', '/api/v1/me');
  show(r.status === 200 ? r.data : null);
}

async function login(ev) {
  ev.preventDefault();
  $('message').textContent = '';
  const r = await call('POST', '/api/v1/session',
                       { user: $('user').value, password: $('password').value });
  $('password').value = '';
  if (r.status === 200) {
    csrf = r.data.csrf;
    show(r.data);
  } else {
    $('message').textContent = r.data.error || ('The node answered ' + r.status);
  }
}

async function logout() {
  await call('DELETE', '/api/v1/session');
  csrf = null;
  show(null);
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  refresh();
});
