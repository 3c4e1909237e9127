// The console's student search under load: SESSIONS signed-in sessions, each
// on its own connection (and loopback address, under the per-address limit),
// asking GET /api/v1/students back to back for SECONDS, after all have
// signed in (a sign-in is a password hash: not what is measured). Prints
// the latency per kind of search (p50, p99, max) and in all, and requests
// a second.
//
//   node tests/bench/console_search.mjs PORT USER PASSWORD SESSIONS SECONDS
//
// FRESH=1 asks for a new random three-letter term each time (no search is
// repeated, so none is answered from the matches kept); otherwise the terms
// below go round: no term, common and rare names, an id, a state id, pages.
import http from 'node:http';

const [port, user, pw, nsess, secs] = process.argv.slice(2);
const N = +nsess;
const T = +secs * 1000;
const queries = ['', 'q=an', 'q=S-54321', 'q=ST-0012345', 'q=kai%20lev', 'q=zz-nobody',
  'offset=50000', 'q=mar&offset=100'];

function req(s, method, path, body) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const headers = { 'Content-Type': 'application/json' };
    if (s.cookie) headers.Cookie = s.cookie;
    const r = http.request({ host: '127.0.0.1', port: +port, method, path, localAddress: s.local,
      agent: s.agent, headers }, resp => {
      const chunks = [];
      resp.on('data', c => chunks.push(c));
      resp.on('end', () => resolve({ status: resp.statusCode, headers: resp.headers,
        ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    r.on('error', reject);
    if (body) r.write(body);
    r.end();
  });
}

async function signIn(i) {
  const local = '127.0.0.' + (2 + (i % 200));
  const s = { local, agent: new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: local }) };
  const r = await req(s, 'POST', '/api/v1/session', JSON.stringify({ user, password: pw }));
  if (r.status !== 200) throw new Error('sign-in: ' + r.status);
  s.cookie = r.headers['set-cookie'][0].split(';')[0];
  return s;
}

const lat = {};
let errors = 0;
async function run(i, s) {
  await req(s, 'GET', '/api/v1/students?limit=1'); // the first search after the sign-ins builds the index
  const end = Date.now() + T;
  let k = i;
  while (Date.now() < end) {
    const q = process.env.FRESH ? 'q=' + Math.random().toString(36).slice(2, 5) : queries[k++ % queries.length];
    const r = await req(s, 'GET', '/api/v1/students?' + q);
    if (r.status !== 200) errors++;
    (lat[process.env.FRESH ? 'fresh three-letter terms' : q || '(no term)'] ||= []).push(r.ms);
  }
}

const sessions = [];
for (let i = 0; i < N; i++) sessions.push(await signIn(i));
await Promise.all(sessions.map((s, i) => run(i, s)));
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(a.length * p))].toFixed(1);
let all = [];
for (const [q, a] of Object.entries(lat)) {
  a.sort((x, y) => x - y);
  all = all.concat(a);
  console.log(`${q}\tn=${a.length}\tp50=${pct(a, 0.5)}\tp99=${pct(a, 0.99)}\tmax=${pct(a, 1)} ms`);
}
all.sort((x, y) => x - y);
console.log(`all\tn=${all.length}\tp50=${pct(all, 0.5)}\tp99=${pct(all, 0.99)}\tmax=${pct(all, 1)} ms` +
  `\terrors=${errors}\trequests/s=${(all.length / (T / 1000)).toFixed(0)}`);
