// oxirtc web UI: joins a room over the signaling WebSocket (docs/signaling.md) — `/` is the room of the
// devices on your network (`local`), `/#CODE` a named room — keeps one RTCPeerConnection per other
// member (the member already in the room offers to the newcomer), and renders devices, transfers,
// history and messages. The transfer protocol itself is in transfer.js.
'use strict';

const $ = (sel) => document.querySelector(sel);
const LOCAL = 'local';
const BASE_TITLE = 'oxirtc share';
const WAIT_FOR_RETURN_MS = 10 * 60 * 1000; // as `oxirtc send --wait`
const state = {
  ws: null, me: null, room: null, ice: [], peers: new Map(), transfers: new Map(), received: [],
  history: [], attention: 0, notified: [], retries: [], saved: [],
};
window.oxirtcApp = state; // for tests and debugging

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else if (v !== undefined && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// Controls and the invisible or text-direction characters that disguise a name (`invoice<U+202E>fdp.exe`
// shows as `invoiceexe.pdf`); the same set as the CLI's term_safe.rs.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

// Text from a peer as shown on the page: hidden characters written as \u{hex}.
function shown(text) {
  return String(text).replace(HIDDEN, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
}

// A received file's name as saved: hidden characters and path separators replaced by `_`.
function saveName(name) { return String(name).replace(HIDDEN, '_').replace(/[/\\]/g, '_') || 'file'; }

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB']; let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${u[i]}`;
}

function fmtTime(s) {
  if (!isFinite(s)) return '…';
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function clock(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// ---- settings (this browser) ----

const settings = (() => {
  const dflt = { autoSave: true, autoAccept: false, autoMB: 50 };
  try { return { ...dflt, ...JSON.parse(localStorage.getItem('oxirtc-settings') || '{}') }; } catch { return dflt; }
})();
state.settings = settings;

function saveSettings() {
  try { localStorage.setItem('oxirtc-settings', JSON.stringify(settings)); } catch { /* private mode */ }
}

// ---- signaling ----

function roomFromUrl() {
  let fromHash = '';
  try { fromHash = decodeURIComponent(location.hash.slice(1)); } catch { fromHash = location.hash.slice(1); }
  const m = location.pathname.match(/^\/r\/([^/]+)/);
  return normalizeCode(fromHash) || (m ? normalizeCode(decodeURIComponent(m[1])) : '');
}

// The server's rule (signaling/codes.rs normalize_code): `8 Lantern meadow` -> `8-lantern-meadow`;
// '' if it cannot be a code.
function normalizeCode(text) {
  const parts = text.trim().split(/[-\s]+/).filter((p) => p).map((p) => p.toLowerCase());
  const ok = parts.length > 0 && parts.length <= 8 && parts.every((p) => /^[a-z0-9]{1,16}$/.test(p));
  return ok ? parts.join('-') : '';
}

// Our name: the one the user chose, else the one the server gave this tab (kept over a reload, so a
// sender waiting for us to come back recognises us).
function myName() {
  return localStorage.getItem('oxirtc-name') || sessionStorage.getItem('oxirtc-tab-name') || undefined;
}

// Joins `room` (a room link: made if missing; a typed code: must exist; '' : the devices of our network;
// null: a new private room).
function enter(room, create) {
  const name = myName();
  state.wanted = room;
  if (room === null) send({ type: 'create', name, kind: 'browser' });
  else send({ type: 'join', room: room || LOCAL, create, name, kind: 'browser' });
}

// Leaves the current room (closing every peer connection) and joins another on the same socket.
function switchRoom(room, create, force = false) {
  if (!force && room !== null && (room || LOCAL) === state.room) return;
  send({ type: 'leave' });
  for (const id of [...state.peers.keys()]) removePeer(id);
  state.room = null;
  $('#room').textContent = room || (room === null ? 'new room' : 'your network');
  setStatus('Joining…');
  enter(room, create);
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => enter(roomFromUrl(), true);
  ws.onmessage = (e) => { let m; try { m = JSON.parse(e.data); } catch { return; } onSignal(m); };
  ws.onclose = () => {
    setStatus('Lost the connection to the server; reconnecting…', true);
    for (const id of [...state.peers.keys()]) removePeer(id);
    state.room = null;
    setTimeout(connect, 2000);
  };
}

function send(m) { if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify({ v: 1, ...m })); }

function onSignal(m) {
  switch (m.type) {
    case 'joined':
      state.me = m.you; state.room = m.room; state.ice = m.iceServers || [];
      if (!localStorage.getItem('oxirtc-name')) sessionStorage.setItem('oxirtc-tab-name', m.you.name);
      history.replaceState(null, '', m.room === LOCAL ? '/' : `/#${m.room}`);
      renderRoom();
      for (const p of m.peers) addPeer(p, false);
      break;
    case 'peer-joined': addPeer(m.peer, true); break;
    case 'peer-left': removePeer(m.id); break;
    case 'signal': onPeerSignal(m.from, m.data); break;
    case 'error':
      if (!state.room && state.wanted === '' && (m.code === 'unknown-room' || m.code === 'room-full')) {
        // No room of our network (the server cannot see our address, or it is full): a room of our own.
        setStatus(`${m.message}. You are in a private room instead.`, true);
        enter(null, true);
        break;
      }
      setStatus(`${m.message} (${m.code})`, true);
      if (!state.room && state.wanted) {
        // A typed code that names no room: back to the devices of our network.
        history.replaceState(null, '', '/');
        enter('', true);
      }
      break;
    default: break;
  }
}

function setStatus(text, bad = false) {
  const s = $('#status'); s.textContent = text; s.className = bad ? 'status bad' : 'status';
}

// ---- peers ----

function addPeer(info, weOffer) {
  if (state.peers.has(info.id)) removePeer(info.id);
  const pc = new RTCPeerConnection({ iceServers: state.ice });
  const peer = { info, pc, link: null, pending: [], card: null };
  state.peers.set(info.id, peer);
  pc.onicecandidate = (e) => { if (e.candidate) send({ type: 'signal', to: info.id, data: { candidate: e.candidate.toJSON() } }); };
  pc.onconnectionstatechange = () => renderPeer(peer);
  pc.ondatachannel = (e) => { if (e.channel.label === 'oxirtc-transfer') attach(peer, e.channel); };
  if (weOffer) {
    attach(peer, pc.createDataChannel('oxirtc-transfer'));
    pc.createOffer().then((o) => pc.setLocalDescription(o)).then(() =>
      send({ type: 'signal', to: info.id, data: { sdp: { type: 'offer', sdp: pc.localDescription.sdp } } }))
      .catch((e) => setStatus(`Could not connect to ${shown(info.name)}: ${e.message}`, true));
  }
  renderPeers();
}

function attach(peer, dc) {
  dc.addEventListener('open', () => {
    if (state.peers.get(peer.info.id) !== peer) return;
    const maxMessageSize = peer.pc.sctp && peer.pc.sctp.maxMessageSize;
    peer.link = new window.oxirtcTransfer.TransferLink(dc, uiFor(peer), { maxMessageSize, peerName: peer.info.name });
    renderPeer(peer);
    resumeFor(peer);
  });
  dc.addEventListener('close', () => { peer.link = null; renderPeer(peer); });
}

async function onPeerSignal(from, data) {
  const peer = state.peers.get(from);
  if (!peer || !data || typeof data !== 'object') return;
  const pc = peer.pc;
  try {
    if (data.sdp) {
      await pc.setRemoteDescription(data.sdp);
      if (data.sdp.type === 'offer') {
        await pc.setLocalDescription(await pc.createAnswer());
        send({ type: 'signal', to: from, data: { sdp: { type: 'answer', sdp: pc.localDescription.sdp } } });
      }
      for (const c of peer.pending.splice(0)) await pc.addIceCandidate(c).catch(() => {});
    } else if (data.candidate) {
      if (pc.remoteDescription) await pc.addIceCandidate(data.candidate).catch(() => {});
      else if (peer.pending.length < 64) peer.pending.push(data.candidate);
    }
  } catch (e) { setStatus(`Could not connect to ${shown(peer.info.name)}: ${e.message}`, true); }
}

// A member left (or we left the room): its card goes at once, and what ran with it ends.
function removePeer(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  state.peers.delete(id);
  if (peer.link) peer.link.abort('failed', `${peer.info.name} went away`);
  peer.link = null;
  peer.pc.close();
  renderPeers();
}

// ---- sending ----

function sendTo(peer, files) {
  files = [...files];
  if (!files.length) return;
  if (!peer.link) { toast(`${shown(peer.info.name)} is not connected yet`); return; }
  if (peer.link.busy()) { toast(`Still sending to ${shown(peer.info.name)}: wait for it to finish`); return; }
  peer.link.send(files);
}

function readyPeers() { return [...state.peers.values()].filter((p) => p.link); }

function sendToAll(files) {
  const peers = readyPeers();
  if (!peers.length) { toast('Nobody is connected yet: open this room on another device first'); return; }
  for (const p of peers) sendTo(p, files);
}

// A sender whose receiver went away (a reload, a lost network) offers the rest again when a device of
// that name comes back within WAIT_FOR_RETURN_MS; the receiving page resumes from what it kept.
function rememberForRetry(peer, t) {
  const left = t.sources.slice(t.results.filter((r) => r.ok).length);
  if (!left.length) return;
  const retry = { name: peer.info.name, files: left, until: Date.now() + WAIT_FOR_RETURN_MS, t };
  state.retries.push(retry);
  // A reloaded page may be back before we heard that its old self left.
  const back = [...state.peers.values()].find((p) => p.link && p.info.name === retry.name && !p.link.busy());
  if (back) { resumeFor(back); return; }
  const tick = () => {
    if (!state.retries.includes(retry)) return;
    const ms = retry.until - Date.now();
    if (ms <= 0) {
      state.retries.splice(state.retries.indexOf(retry), 1);
      t.state = 'failed'; t.error = `${t.error}; ${retry.name} did not come back within ${WAIT_FOR_RETURN_MS / 60000} min`;
      renderTransfer(peer, t, true); recordHistory(peer, t);
      return;
    }
    t.state = 'waiting-peer'; t.waitLeft = ms;
    renderTransfer(peer, t, true);
    setTimeout(tick, 1000);
  };
  tick();
}

function resumeFor(peer) {
  const i = state.retries.findIndex((r) => r.name === peer.info.name);
  if (i < 0) return;
  const [retry] = state.retries.splice(i, 1);
  retry.t.state = 'failed'; retry.t.error = `${retry.name} went away; continued below`;
  renderTransfer(peer, retry.t, true);
  peer.link.send(retry.files, retry.t);
}

// ---- transfers UI ----

function uiFor(peer) {
  return {
    offer: (t) => new Promise((resolve) => {
      t.decide = (yes) => { if (t.attention) { t.attention = false; attention(-1); } resolve(yes); };
      const small = settings.autoAccept && t.total <= settings.autoMB * 1e6;
      if (t.resumable || small) {
        t.auto = t.resumable ? 'resume' : 'small';
        renderTransfer(peer, t);
        resolve(true);
        return;
      }
      t.attention = true; attention(1);
      renderTransfer(peer, t);
      const what = t.files.length === 1 ? shown(t.files[0].name) : `${t.files.length} files`;
      notify(`${shown(peer.info.name)} wants to send you ${what}`, `${fmtBytes(t.total)} — open oxirtc share to receive it`);
    }),
    progress: (t) => {
      renderTransfer(peer, t);
      if (t.state === 'waiting' || t.state === 'asking') renderPeer(peer);
    },
    finished: (t) => {
      if (t.attention) { t.attention = false; attention(-1); }
      if (t.dir === 'in') {
        state.lastIncoming = { marks: t.marks, total: t.total, state: t.state };
        const ok = t.results.filter((r) => r.ok && r.blob);
        for (const r of ok) state.received.push(r);
        if (ok.length && settings.autoSave) for (const r of ok) saveFile(r);
        if (ok.length) {
          if (document.visibilityState === 'hidden' || !document.hasFocus()) attention(1);
          notify(`Received from ${shown(peer.info.name)}`, ok.map((r) => shown(r.name)).join(', '));
        }
      }
      // Lost, not refused: the peer may come back (a reload) and the rest goes then.
      const retry = t.dir === 'out' && t.state === 'failed' && t.lost && t.bytes > 0;
      renderTransfer(peer, t, true); renderPeer(peer);
      if (retry) rememberForRetry(peer, t); else recordHistory(peer, t);
    },
    text: (text) => { addMessage(shown(peer.info.name), shown(text)); toast(`${shown(peer.info.name)}: ${shown(text)}`); },
  };
}

function rateLine(t) {
  const secs = (performance.now() - t.started) / 1000;
  const moved = t.bytes - (t.resumedBytes || 0);
  const rate = t.started && secs > 0 ? moved / secs : 0;
  const eta = rate > 0 ? (t.total - t.bytes) / rate : Infinity;
  return `${fmtBytes(t.bytes)} of ${fmtBytes(t.total)} · ${fmtBytes(rate)}/s · ${fmtTime(eta)} left`;
}

// Rows by transfer object (ids restart with every connection, so they name no row).
let rowSeq = 0;
const rowOf = new WeakMap();

function renderTransfer(peer, t, force = false) {
  let row = rowOf.get(t);
  if (!row) {
    const names = t.files.map((f) => shown(f.name)).join(', ');
    const who = t.dir === 'out' ? `to ${shown(peer.info.name)}` : `from ${shown(peer.info.name)}`;
    row = {
      node: el('div', { class: 'transfer', 'data-dir': t.dir }),
      bar: el('progress', { max: '100', value: '0' }),
      info: el('div', { class: 'transfer-info' }),
      actions: el('div', { class: 'actions' }),
    };
    row.node.append(el('div', { class: 'transfer-head' }, el('span', { class: 'dir' }, who)),
      el('div', { class: 'names' }, names || '(nothing)'), row.bar, row.info, row.actions);
    rowOf.set(t, row);
    state.transfers.set(++rowSeq, row);
    $('#transfers').prepend(row.node);
    $('#no-transfers').hidden = true;
  }
  const now = performance.now();
  const moving = t.state === 'sending' || t.state === 'receiving';
  if (!force && moving && row.state === t.state && row.last && now - row.last < 100) return; // ≤ 10 redraws/s
  row.last = now;
  row.bar.value = t.total ? Math.floor((100 * t.bytes) / t.total) : (t.state === 'done' ? 100 : 0);
  row.info.textContent = describe(peer, t);
  row.node.classList.toggle('attention', !!t.attention);
  // The device's card shows the transfer too, as a bar under its name.
  const card = peer.card && peer.card.isConnected ? peer.card : null;
  if (card) {
    let pb = card.querySelector('progress');
    if (moving) {
      if (!pb) { pb = el('progress', { max: '100' }); card.querySelector('.peer-state').after(pb); }
      pb.value = row.bar.value;
      card.querySelector('.peer-state').textContent = `${t.dir === 'out' ? 'sending' : 'receiving'} · ${row.bar.value} %`;
    } else if (pb) pb.remove();
  }
  if (row.state !== t.state) {
    // Buttons are only rebuilt when the state changes, so they stay put while the bar moves.
    row.state = t.state;
    row.node.dataset.state = t.state;
    row.actions.replaceWith(row.actions = actions(peer, t));
  }
}

function describe(peer, t) {
  switch (t.state) {
    case 'checking': return 'checking what this page kept from before…';
    case 'asking': return `wants to send ${t.files.length === 1 ? 'a file' : `${t.files.length} files`}, ${fmtBytes(t.total)}`;
    case 'waiting': return t.continues ? 'came back: offering the rest again…' : 'waiting for the other side to accept…';
    case 'sending': case 'receiving': {
      const resumed = t.resumedBytes ? ` · resumed at ${fmtBytes(t.resumedBytes)}` : '';
      return rateLine(t) + resumed;
    }
    case 'waiting-peer': return `${shown(peer.info.name)} went away: waiting ${clock(t.waitLeft)} for it to come back and resume`;
    case 'done': return t.dir === 'in'
      ? `received and verified (SHA-256 ${t.results.map((r) => r.sha256.slice(0, 12)).join(', ')}…)${settings.autoSave ? ' · saved to Downloads' : ''}`
      : 'sent and verified by the receiver';
    case 'declined': return `declined${t.error ? ': ' + shown(t.error) : ''}`;
    case 'cancelled': return shown(t.error || 'cancelled');
    default: return `failed: ${shown(t.error || 'unknown error')}${t.kept ? ' · what arrived is kept: it resumes when the sender offers it again' : ''}`;
  }
}

function actions(peer, t) {
  const box = el('div', { class: 'actions' });
  if (t.state === 'asking') {
    box.append(el('button', { class: 'primary accept', type: 'button', onclick: () => t.decide(true) }, t.files.length > 1 ? 'Receive all' : 'Receive'),
      el('button', { class: 'decline', type: 'button', onclick: () => t.decide(false) }, 'Decline'));
  } else if (['waiting', 'sending', 'receiving'].includes(t.state) && peer.link) {
    box.append(el('button', { class: 'cancel', type: 'button', onclick: () => peer.link && peer.link.cancel() }, 'Cancel'));
  } else if (t.state === 'waiting-peer') {
    box.append(el('button', { class: 'cancel', type: 'button', onclick: () => {
      state.retries = state.retries.filter((r) => r.t !== t);
      t.state = 'cancelled'; t.error = 'stopped waiting'; renderTransfer(peer, t, true); recordHistory(peer, t);
    } }, 'Stop waiting'));
  } else if (t.state === 'done' && t.dir === 'in') {
    box.append(...saveButtons(t.results.filter((r) => r.ok && r.blob)));
  }
  return box;
}

function saveButtons(results) {
  const out = results.map((r) => el('a', { class: 'button save', href: URL.createObjectURL(r.blob), download: saveName(r.name) }, `Save ${shown(r.name)}`));
  if (results.length > 1) out.unshift(el('button', { class: 'primary save-all', type: 'button', onclick: () => results.forEach(saveFile) }, `Save all ${results.length}`));
  return out;
}

// Saves a received file to the browser's downloads.
function saveFile(r) {
  const a = el('a', { href: URL.createObjectURL(r.blob), download: saveName(r.name) });
  document.body.append(a); a.click(); a.remove();
  state.saved.push(r.name);
}

// ---- history (this browser; names and outcomes only) ----

function loadHistory() {
  try { state.history = JSON.parse(localStorage.getItem('oxirtc-history') || '[]'); } catch { state.history = []; }
  for (const h of state.history.slice(0, 50).reverse()) renderOld(h);
}

function recordHistory(peer, t) {
  const entry = {
    at: Date.now(), dir: t.dir, peer: peer.info.name, state: t.state, error: t.error || '',
    files: t.files.map((f) => ({ name: f.name, size: f.size })),
    keys: t.dir === 'in' ? t.results.filter((r) => r.ok).map((r) => r.key) : [],
  };
  state.history.unshift(entry);
  state.history = state.history.slice(0, 100);
  try { localStorage.setItem('oxirtc-history', JSON.stringify(state.history)); } catch { /* full */ }
}

function renderOld(h) {
  const who = h.dir === 'out' ? `to ${shown(h.peer)}` : `from ${shown(h.peer)}`;
  const when = new Date(h.at).toLocaleString();
  const what = h.state === 'done' ? (h.dir === 'in' ? 'received and verified' : 'sent and verified') : `${h.state}${h.error ? ': ' + shown(h.error) : ''}`;
  const node = el('div', { class: 'transfer old', 'data-state': h.state, 'data-dir': h.dir },
    el('div', { class: 'transfer-head' }, el('span', { class: 'dir' }, `${who} · ${when}`)),
    el('div', { class: 'names' }, h.files.map((f) => `${shown(f.name)} (${fmtBytes(f.size)})`).join(', ')),
    el('div', { class: 'transfer-info' }, what));
  $('#transfers').append(node);
  $('#no-transfers').hidden = true;
}

async function clearHistory() {
  const live = [...state.transfers.entries()].filter(([, row]) => ['asking', 'waiting', 'sending', 'receiving', 'waiting-peer', 'checking'].includes(row.state));
  for (const node of [...$('#transfers').children]) if (!live.some(([, row]) => row.node === node)) node.remove();
  for (const [key, row] of [...state.transfers.entries()]) if (!live.some(([, r]) => r === row)) state.transfers.delete(key);
  const keys = [...state.history.flatMap((h) => h.keys || []), ...state.received.map((r) => r.key).filter(Boolean)];
  state.received = [];
  state.history = [];
  localStorage.removeItem('oxirtc-history');
  $('#no-transfers').hidden = $('#transfers').children.length > 0;
  // The copies this page kept of received files, and the parts kept for a resume.
  const T = window.oxirtcTransfer;
  for (const key of [...keys, ...Object.keys(T.partials())]) await T.forget(key);
  toast('History cleared');
}

// ---- attention: title badge, notifications, toasts ----

function attention(delta) {
  state.attention = Math.max(0, state.attention + delta);
  document.title = state.attention ? `(${state.attention}) ${BASE_TITLE}` : BASE_TITLE;
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') {
    const asking = [...state.transfers.values()].filter((r) => r.state === 'asking').length;
    state.attention = asking; attention(0);
  }
});

function notify(title, body) {
  const entry = { title, body, shown: false };
  state.notified.push(entry);
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  if (document.visibilityState === 'visible' && document.hasFocus()) return; // the page shows it already
  try {
    const n = new Notification(title, { body, icon: '/icon.svg', tag: 'oxirtc-share' });
    n.onclick = () => { window.focus(); n.close(); };
    entry.shown = true;
  } catch { /* not allowed here (some mobile browsers want a service worker) */ }
}

function renderNotifyButton() {
  const b = $('#notify');
  b.hidden = !('Notification' in window) || Notification.permission !== 'default';
}

let toastTimer = null;
function toast(text) {
  const t = $('#toast');
  t.textContent = text; t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 3500);
}

function addMessage(from, text) {
  const log = $('#messages');
  log.append(el('div', { class: 'message' }, el('strong', {}, `${from}: `), text));
  log.scrollTop = log.scrollHeight;
}

// ---- rendering ----

function roomLink() {
  return state.room === LOCAL ? `${location.origin}/` : `${location.origin}/#${state.room}`;
}

function renderRoom() {
  const local = state.room === LOCAL;
  $('#me').textContent = state.me.name;
  $('#room-kind').textContent = local ? 'Nearby' : 'Room';
  $('#room').textContent = local ? 'devices on your network' : state.room;
  $('#room').classList.toggle('code', !local);
  $('#share-title').textContent = local ? 'Invite a device' : 'Share this room';
  const link = roomLink();
  $('#link').value = link;
  $('#go-nearby').hidden = local;
  $('#empty-hint').textContent = local
    ? 'Devices on your network appear here by themselves (everyone who shares your internet address can see you). For a private room, make one and share its code.'
    : 'Share this room: the link, the code or the QR code. Everyone who opens it lands here.';
  renderQr(link);
  if (local) {
    state.recvCommand = null;
    setStatus('You are visible to the other devices of your network. Open this page on them.');
  } else {
    // The exact command, with the server this page came from (the CLI's default is port 8080 only).
    state.recvCommand = `oxirtc recv --server ${location.origin} ${state.room}`;
    setStatus(`Open the link on another device, or in a terminal run: ${state.recvCommand}`);
  }
  renderPeers();
}

// The QR code of `text` as an SVG (qrcode-generator, vendored; MIT).
function renderQr(text) {
  const box = $('#qr');
  box.replaceChildren();
  box.dataset.text = text;
  if (typeof qrcode !== 'function') return;
  const q = qrcode(0, 'M');
  q.addData(text);
  q.make();
  const n = q.getModuleCount(), quiet = 2, size = n + 2 * quiet;
  let d = '';
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (q.isDark(r, c)) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  box.innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges"><rect width="${size}" height="${size}" fill="#fff"/><path d="${d}" fill="#000"/></svg>`;
  const loopback = /^(localhost|127\.|\[::1\])/.test(location.hostname);
  $('#qr-hint').replaceChildren(...(loopback
    ? ['This page is open on this computer\'s loopback address, which a phone cannot reach: run ',
      el('code', {}, 'oxirtc serve --listen 0.0.0.0:8080'), ' and open it by the computer\'s network address.']
    : ['Scan it with a phone camera to open this room.']));
}

function renderPeers() {
  const list = $('#peers');
  list.replaceChildren();
  for (const peer of state.peers.values()) { peer.card = null; renderPeer(peer); }
  $('#empty').hidden = state.peers.size > 0;
  const anyone = readyPeers().length > 0;
  $('#dropzone').classList.toggle('off', !anyone);
}

function hue(text) { let h = 0; for (const c of String(text)) h = (h * 31 + c.codePointAt(0)) % 360; return h; }

function renderPeer(peer) {
  if (state.peers.get(peer.info.id) !== peer) { if (peer.card) peer.card.remove(); peer.card = null; return; }
  const ready = !!peer.link;
  const busy = ready && peer.link.busy();
  const input = el('input', { type: 'file', multiple: true, hidden: true });
  input.addEventListener('change', () => { if (input.files.length) sendTo(peer, input.files); input.value = ''; });
  const cli = peer.info.kind === 'cli';
  const pcState = peer.pc.connectionState;
  const status = ready ? (busy ? 'sending…' : 'ready: click or drop files') : (pcState === 'failed' ? 'no connection (no path between you)' : 'connecting…');
  const initials = shown(peer.info.name).split(/\s+/).map((w) => w[0] || '').join('').slice(0, 2).toUpperCase();
  const card = el('div', { class: `peer${ready ? ' ready' : ''}`, 'data-peer': peer.info.id, title: ready ? `Send files to ${shown(peer.info.name)}` : '' },
    el('div', { class: 'avatar', style: `background: hsl(${hue(peer.info.name)} 60% 45%)` }, initials, el('span', { class: 'kind' }, cli ? 'CLI' : 'web')),
    el('div', { class: 'peer-name' }, shown(peer.info.name)),
    el('div', { class: 'peer-state' }, status),
    input,
    el('button', { class: 'primary send-files', type: 'button', onclick: (e) => { e.stopPropagation(); input.click(); }, disabled: !ready || busy }, 'Send files'));
  card.addEventListener('click', () => { if (peer.link && !peer.link.busy()) input.click(); });
  card.addEventListener('dragover', (e) => { e.preventDefault(); e.stopPropagation(); card.classList.add('drop'); });
  card.addEventListener('dragleave', () => card.classList.remove('drop'));
  card.addEventListener('drop', (e) => {
    e.preventDefault(); e.stopPropagation(); card.classList.remove('drop'); dragDone();
    if (e.dataTransfer.files.length) sendTo(peer, e.dataTransfer.files);
  });
  if (peer.card && peer.card.isConnected) peer.card.replaceWith(card); else $('#peers').append(card);
  peer.card = card;
  $('#dropzone').classList.toggle('off', readyPeers().length === 0);
}

// ---- page-wide drag and drop ----

let dragDepth = 0;
function dragDone() { dragDepth = 0; $('#drag-overlay').hidden = true; $('#dropzone').classList.remove('drop'); }
window.addEventListener('dragenter', (e) => {
  if (!e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
  dragDepth++; $('#drag-overlay').hidden = false;
});
window.addEventListener('dragleave', () => { if (--dragDepth <= 0) dragDone(); });
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault(); dragDone();
  // Dropped anywhere: with one device in the room, it is meant for that one.
  if (e.dataTransfer.files.length && readyPeers().length === 1) sendToAll(e.dataTransfer.files);
  else if (e.dataTransfer.files.length) toast('Drop on a device, or on the "Drop files here" box to send to everyone');
});
const dz = $('#dropzone');
dz.addEventListener('dragover', (e) => { e.preventDefault(); e.stopPropagation(); dz.classList.add('drop'); });
dz.addEventListener('dragleave', () => dz.classList.remove('drop'));
dz.addEventListener('drop', (e) => { e.preventDefault(); e.stopPropagation(); dragDone(); sendToAll(e.dataTransfer.files); });
dz.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('#drop-input').click(); } });
$('#drop-input').addEventListener('change', (e) => { sendToAll(e.target.files); e.target.value = ''; });

// ---- controls ----

$('#chat').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('#chat-text').value.trim();
  if (!text) return;
  let sent = 0;
  for (const p of state.peers.values()) if (p.link) { p.link.sendText(text); sent++; }
  addMessage(sent ? 'You' : 'Nobody connected', text);
  $('#chat-text').value = '';
});

// Renaming in place (no prompt()): the new name is sent by joining the room again.
function showRename(open) {
  $('#rename-form').hidden = !open;
  $('#rename').hidden = open; $('#me').hidden = open;
  if (open) { $('#rename-input').value = state.me ? state.me.name : ''; $('#rename-input').focus(); $('#rename-input').select(); }
}
$('#rename').addEventListener('click', () => showRename(true));
$('#me').addEventListener('click', () => showRename(true));
$('#rename-cancel').addEventListener('click', () => showRename(false));
$('#rename-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('#rename-input').value.replace(HIDDEN, '').trim().slice(0, 40);
  showRename(false);
  if (!name || (state.me && name === state.me.name)) return;
  localStorage.setItem('oxirtc-name', name);
  sessionStorage.setItem('oxirtc-tab-name', name);
  if (state.room) switchRoom(state.room === LOCAL ? '' : state.room, true, true);
});

$('#copy').addEventListener('click', async () => {
  const link = $('#link').value;
  try { await navigator.clipboard.writeText(link); toast('Link copied'); } catch {
    $('#link').select(); document.execCommand && document.execCommand('copy'); toast('Link selected: copy it');
  }
});
$('#go-private').addEventListener('click', () => switchRoom(null, true));
$('#go-nearby').addEventListener('click', () => { history.replaceState(null, '', '/'); switchRoom('', true); });

$('#notify').addEventListener('click', async () => {
  try { await Notification.requestPermission(); } catch { /* refused */ }
  renderNotifyButton();
});

$('#settings-toggle').addEventListener('click', () => {
  const open = $('#settings').hidden;
  $('#settings').hidden = !open;
  $('#settings-toggle').setAttribute('aria-expanded', String(open));
});
$('#auto-save').checked = settings.autoSave;
$('#auto-accept').checked = settings.autoAccept;
$('#auto-mb').value = String(settings.autoMB);
$('#settings').addEventListener('change', () => {
  settings.autoSave = $('#auto-save').checked;
  settings.autoAccept = $('#auto-accept').checked;
  const mb = Math.floor(Number($('#auto-mb').value));
  settings.autoMB = mb >= 1 ? Math.min(mb, 100000) : 50;
  $('#auto-mb').value = String(settings.autoMB);
  saveSettings();
});
$('#settings').addEventListener('submit', (e) => e.preventDefault());

$('#clear-history').addEventListener('click', () => { clearHistory().catch((e) => toast(`Could not clear: ${e.message}`)); });

// A room link pasted into an open tab changes only the `#` part: join that room (issue 17 §1).
window.addEventListener('hashchange', () => {
  const room = roomFromUrl();
  if (room) switchRoom(room, true);
  else if (!location.hash && state.room && state.room !== LOCAL) switchRoom('', true);
});

// A code printed by `oxirtc send` (or shown on another page), typed in to receive from it.
$('#code-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const code = normalizeCode($('#code-input').value);
  if (!code) { setStatus('A code looks like 8-lantern-meadow (a number and two words).', true); return; }
  $('#code-input').value = '';
  if (code !== state.room) switchRoom(code, false);
});

renderNotifyButton();
loadHistory();
connect();
