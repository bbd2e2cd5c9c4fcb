// oxirtc web UI: joins a room over the signaling WebSocket (docs/signaling.md), keeps one
// RTCPeerConnection per other member (the member already in the room offers to the newcomer), and
// renders peers, transfers and messages. The transfer protocol itself is in transfer.js.
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { ws: null, me: null, room: null, ice: [], peers: new Map(), transfers: new Map(), received: [] };
window.oxirtcApp = state; // for tests and debugging

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else if (v !== undefined) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// Controls and the invisible or text-direction characters that disguise a name (`invoice<U+202E>fdp.exe`
// shows as `invoiceexe.pdf`); the same set as the CLI's term_safe.rs.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

// Text from a peer as shown on the page: hidden characters written as \u{hex}.
function shown(text) {
  return String(text).replace(HIDDEN, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
}

// A received file's name as saved: hidden characters replaced by `_`.
function saveName(name) { return String(name).replace(HIDDEN, '_'); }

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

// Joins `room` (a room link: made if missing; a typed code: must exist), or a room of our own.
function enter(room, create) {
  const name = localStorage.getItem('oxirtc-name') || undefined;
  send(room ? { type: 'join', room, create, name, kind: 'browser' } : { type: 'create', name, kind: 'browser' });
}

// Leaves the current room (closing every peer connection) and joins another on the same socket.
function switchRoom(room, create) {
  if (!room || room === state.room) return;
  send({ type: 'leave' });
  for (const id of [...state.peers.keys()]) removePeer(id);
  state.room = null;
  $('#room').textContent = room;
  setStatus(`Joining ${room}…`);
  enter(room, create);
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => enter(roomFromUrl(), true);
  ws.onmessage = (e) => onSignal(JSON.parse(e.data));
  ws.onclose = () => setStatus('Disconnected from the server. Reload to reconnect.', true);
}

function send(m) { if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify({ v: 1, ...m })); }

function onSignal(m) {
  switch (m.type) {
    case 'joined':
      state.me = m.you; state.room = m.room; state.ice = m.iceServers || [];
      history.replaceState(null, '', `/#${m.room}`);
      renderRoom();
      for (const p of m.peers) addPeer(p, false);
      break;
    case 'peer-joined': addPeer(m.peer, true); break;
    case 'peer-left': removePeer(m.id); break;
    case 'signal': onPeerSignal(m.from, m.data); break;
    case 'error': setStatus(`${m.message} (${m.code})`, true); break;
  }
}

function setStatus(text, bad = false) {
  const s = $('#status'); s.textContent = text; s.className = bad ? 'status bad' : 'status';
}

// ---- peers ----

function addPeer(info, weOffer) {
  const pc = new RTCPeerConnection({ iceServers: state.ice });
  const peer = { info, pc, link: null, pending: [], card: null };
  state.peers.set(info.id, peer);
  pc.onicecandidate = (e) => { if (e.candidate) send({ type: 'signal', to: info.id, data: { candidate: e.candidate.toJSON() } }); };
  pc.onconnectionstatechange = () => renderPeer(peer);
  pc.ondatachannel = (e) => { if (e.channel.label === 'oxirtc-transfer') attach(peer, e.channel); };
  if (weOffer) {
    attach(peer, pc.createDataChannel('oxirtc-transfer'));
    pc.createOffer().then((o) => pc.setLocalDescription(o)).then(() =>
      send({ type: 'signal', to: info.id, data: { sdp: { type: 'offer', sdp: pc.localDescription.sdp } } }));
  }
  renderPeers();
}

function attach(peer, dc) {
  dc.addEventListener('open', () => {
    peer.link = new window.oxirtcTransfer.TransferLink(dc, uiFor(peer));
    renderPeer(peer);
  });
  dc.addEventListener('close', () => { peer.link = null; renderPeer(peer); });
}

async function onPeerSignal(from, data) {
  const peer = state.peers.get(from);
  if (!peer) return;
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
      else peer.pending.push(data.candidate);
    }
  } catch (e) { setStatus(`Could not connect to ${peer.info.name}: ${e.message}`, true); }
}

function removePeer(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  peer.pc.close();
  if (peer.link) peer.link.abort('failed', 'the peer went away');
  state.peers.delete(id);
  renderPeers();
}

// ---- transfers UI ----

function uiFor(peer) {
  return {
    offer: (t) => new Promise((resolve) => { t.decide = resolve; renderTransfer(peer, t); }),
    progress: (t) => {
      renderTransfer(peer, t);
      if (t.state === 'waiting' || t.state === 'asking') renderPeer(peer); // Send disabled while busy
    },
    finished: (t) => {
      if (t.dir === 'in') for (const r of t.results) if (r.blob) state.received.push(r);
      renderTransfer(peer, t); renderPeer(peer);
    },
    text: (text) => addMessage(shown(peer.info.name), shown(text)),
  };
}

function rateLine(t) {
  const secs = (performance.now() - t.started) / 1000;
  const rate = t.started && secs > 0 ? t.bytes / secs : 0;
  const eta = rate > 0 ? (t.total - t.bytes) / rate : Infinity;
  return `${fmtBytes(t.bytes)} of ${fmtBytes(t.total)} · ${fmtBytes(rate)}/s · ${fmtTime(eta)} left`;
}

function renderTransfer(peer, t) {
  const key = `${peer.info.id}:${t.dir}:${t.id}`;
  let row = state.transfers.get(key);
  if (!row) {
    const names = t.files.map((f) => shown(f.name)).join(', ');
    const who = t.dir === 'out' ? `To ${shown(peer.info.name)}` : `From ${shown(peer.info.name)}`;
    row = {
      node: el('div', { class: 'transfer', 'data-dir': t.dir }),
      bar: el('progress', { max: '100', value: '0' }),
      info: el('div', { class: 'transfer-info' }),
      actions: el('div', { class: 'actions' }),
    };
    row.node.append(el('div', { class: 'transfer-head' }, el('strong', {}, who), el('span', { class: 'names' }, ` ${names}`)),
      row.bar, row.info, row.actions);
    state.transfers.set(key, row);
    $('#transfers').prepend(row.node);
  }
  const now = performance.now();
  const moving = t.state === 'sending' || t.state === 'receiving';
  if (moving && row.state === t.state && row.last && now - row.last < 100) return; // at most 10 redraws a second
  row.last = now;
  row.bar.value = t.total ? Math.floor((100 * t.bytes) / t.total) : (t.state === 'done' ? 100 : 0);
  row.info.textContent = describe(t);
  if (row.state !== t.state) {
    // Buttons are only rebuilt when the state changes, so they stay put while the bar moves.
    row.state = t.state;
    row.node.dataset.state = t.state;
    row.actions.replaceWith(row.actions = actions(peer, t));
  }
}

function describe(t) {
  switch (t.state) {
    case 'asking': return `wants to send ${t.files.length} file(s), ${fmtBytes(t.total)}`;
    case 'waiting': return 'waiting for the other side to accept…';
    case 'sending': case 'receiving': return rateLine(t);
    case 'done': return t.dir === 'in' ? `received and verified (SHA-256 ${t.results.map((r) => r.sha256.slice(0, 12)).join(', ')}…)` : 'sent and verified by the receiver';
    case 'declined': return `declined${t.error ? ': ' + t.error : ''}`;
    case 'cancelled': return t.error || 'cancelled';
    default: return `failed: ${t.error || 'unknown error'}`;
  }
}

function actions(peer, t) {
  const box = el('div', { class: 'actions' });
  if (t.state === 'asking') {
    box.append(el('button', { class: 'primary accept', onclick: () => t.decide(true) }, 'Accept'),
      el('button', { class: 'decline', onclick: () => t.decide(false) }, 'Decline'));
  } else if (['waiting', 'sending', 'receiving'].includes(t.state) && peer.link) {
    box.append(el('button', { class: 'cancel', onclick: () => peer.link && peer.link.cancel() }, 'Cancel'));
  } else if (t.state === 'done' && t.dir === 'in') {
    for (const r of t.results) {
      if (r.blob) box.append(el('a', { class: 'download', href: URL.createObjectURL(r.blob), download: saveName(r.name) }, `Save ${shown(r.name)}`));
    }
  }
  return box;
}

function addMessage(from, text) {
  const log = $('#messages');
  log.append(el('div', { class: 'message' }, el('strong', {}, `${from}: `), text));
  log.scrollTop = log.scrollHeight;
}

// ---- rendering ----

function renderRoom() {
  $('#me').textContent = state.me.name;
  $('#room').textContent = state.room;
  const link = `${location.origin}/#${state.room}`;
  $('#link').textContent = link; $('#link').href = link;
  // The exact command, with the server this page came from (the CLI's default is port 8080 only).
  state.recvCommand = `oxirtc recv --server ${location.origin} ${state.room}`;
  setStatus(`Open this link on another device, or run: ${state.recvCommand}`);
}

function renderPeers() {
  const list = $('#peers');
  list.replaceChildren();
  for (const peer of state.peers.values()) { peer.card = null; renderPeer(peer); }
  $('#empty').hidden = state.peers.size > 0;
}

function renderPeer(peer) {
  const ready = !!peer.link;
  const input = el('input', { type: 'file', multiple: '', hidden: '' });
  input.addEventListener('change', () => { if (input.files.length && peer.link) peer.link.send(input.files); });
  const card = el('div', { class: 'peer', 'data-peer': peer.info.id },
    el('div', { class: 'avatar' }, peer.info.name.split(' ').map((w) => w[0]).join('')),
    el('div', { class: 'peer-name' }, shown(peer.info.name)),
    el('div', { class: 'peer-state' }, ready ? (peer.info.kind === 'cli' ? 'terminal · connected' : 'connected') : peer.pc.connectionState),
    input,
    el('button', { class: 'primary send-files', onclick: () => input.click(), ...(ready && !peer.link.busy() ? {} : { disabled: '' }) }, 'Send files'));
  card.addEventListener('dragover', (e) => { e.preventDefault(); card.classList.add('drop'); });
  card.addEventListener('dragleave', () => card.classList.remove('drop'));
  card.addEventListener('drop', (e) => {
    e.preventDefault(); card.classList.remove('drop');
    if (peer.link && e.dataTransfer.files.length) peer.link.send(e.dataTransfer.files);
  });
  if (peer.card && peer.card.isConnected) peer.card.replaceWith(card); else $('#peers').append(card);
  peer.card = card;
}

$('#chat').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('#chat-text').value.trim();
  if (!text) return;
  let sent = 0;
  for (const p of state.peers.values()) if (p.link) { p.link.sendText(text); sent++; }
  addMessage(sent ? 'You' : 'Nobody connected', text);
  $('#chat-text').value = '';
});

$('#rename').addEventListener('click', () => {
  const name = prompt('Your name as others see it (takes effect on reload):', state.me ? state.me.name : '');
  if (name) { localStorage.setItem('oxirtc-name', name); location.reload(); }
});

// A room link pasted into an open tab changes only the `#` part: join that room (issue 17 §1).
window.addEventListener('hashchange', () => switchRoom(roomFromUrl(), true));

// A code printed by `oxirtc send` (or shown on another page), typed in to receive from it.
$('#code-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const code = normalizeCode($('#code-input').value);
  if (!code) { setStatus('A code looks like 8-lantern-meadow (a number and two words).', true); return; }
  $('#code-input').value = '';
  if (code !== state.room) switchRoom(code, false);
});

connect();
