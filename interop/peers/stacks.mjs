// One small interface over werift and node-datachannel (libdatachannel), used by node-peer.mjs (the
// server side of the signaling protocol) and peer-dial.mjs (the dialing side).
//
//   const pc = openStack('werift' | 'ndc', ev)      ev(text): an event-log callback
//   pc.createChannel(label, { ordered, maxRetransmits }) -> Channel
//   pc.onChannel(cb(Channel)), pc.state(), await pc.offer(), await pc.answer(offerSdp),
//   await pc.applyAnswer(sdp), pc.info(), await pc.close(), pc.version
//   Channel: label, ordered, maxRetransmits, send(string|Buffer), isOpen(), close(),
//            on('open'|'message'|'close', cb)  (message: string for text, Buffer for binary)
//
// Candidates: 127.0.0.1 only, no STUN server (both default to a public one): werift skips loopback
// interfaces (so 127.0.0.1 is added by hand) and adds every other one, so it must run in a
// loopback-only namespace; libdatachannel binds 127.0.0.1.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256FingerprintOnly, sleep, version } from './common.mjs';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));

/** A channel handle with plain multi-listener events over either library. */
class Channel {
  constructor(label, ordered, maxRetransmits) {
    Object.assign(this, { label, ordered, maxRetransmits, listeners: { open: [], message: [], close: [] } });
    this.opened = false;
    this.closed = false;
  }

  on(what, cb) { this.listeners[what].push(cb); }

  emit(what, arg) {
    // An incoming channel can be open already and still fire open: report it once.
    if (what === 'open') { if (this.opened) return; this.opened = true; }
    if (what === 'close') { if (this.closed) return; this.closed = true; }
    for (const cb of this.listeners[what]) cb(arg);
  }
}

class WeriftStack {
  constructor(ev) {
    const { RTCPeerConnection } = require('werift');
    this.version = `werift ${version('werift')}`;
    this.pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false });
    this.pc.iceConnectionStateChange.subscribe((st) => ev(`ice ${st}`));
    this.pc.connectionStateChange.subscribe((st) => ev(`pc ${st}`));
    this.stateListeners = [];
    this.pc.connectionStateChange.subscribe((st) => this.stateListeners.forEach((cb) => cb(st)));
  }

  wrap(dc) {
    const ch = new Channel(dc.label, dc.ordered, dc.maxRetransmits ?? null);
    ch.send = (m) => dc.send(m);
    ch.isOpen = () => dc.readyState === 'open';
    ch.close = () => dc.close();
    dc.onMessage.subscribe((m) => ch.emit('message', typeof m === 'string' ? m : Buffer.from(m)));
    dc.stateChanged.subscribe((st) => {
      if (st === 'open') ch.emit('open');
      if (st === 'closed') ch.emit('close');
    });
    // Listeners are added by the caller after wrap(): report an already-open channel on the next turn.
    if (dc.readyState === 'open') setImmediate(() => ch.emit('open'));
    return ch;
  }

  createChannel(label, { ordered = true, maxRetransmits } = {}) {
    const init = { ordered };
    if (maxRetransmits !== undefined && maxRetransmits !== null) init.maxRetransmits = maxRetransmits;
    return this.wrap(this.pc.createDataChannel(label, init));
  }

  onChannel(cb) { this.pc.onDataChannel.subscribe((dc) => cb(this.wrap(dc))); }
  onState(cb) { this.stateListeners.push(cb); }
  state() { return this.pc.connectionState; }

  async gathered() {
    if (this.pc.iceGatheringState === 'complete') return;
    await new Promise((r) => this.pc.iceGatheringStateChange.subscribe((st) => { if (st === 'complete') r(); }));
  }

  async offer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    return this.pc.localDescription.sdp;
  }

  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    return this.pc.localDescription.sdp;
  }

  async applyAnswer(sdp) { await this.pc.setRemoteDescription({ type: 'answer', sdp }); }

  info() {
    const out = { connectionState: this.pc.connectionState };
    try {
      const ice = this.pc.iceTransports?.[0];
      const dtls = this.pc.dtlsTransports?.[0];
      if (ice) out.iceRole = ice.role;
      if (dtls) out.dtlsRole = dtls.role;
    } catch (e) { out.infoError = String(e); }
    return out;
  }

  async close() { await this.pc.close(); }
}

class NdcStack {
  constructor(ev) {
    this.ndc = require('node-datachannel');
    this.version = `node-datachannel ${version('node-datachannel')} (libdatachannel ${this.ndc.getLibraryVersion?.() ?? '?'})`;
    // NDC_LOG=Verbose|Debug|Info|Warning|Error: libdatachannel's own log on stderr.
    if (process.env.NDC_LOG) this.ndc.initLogger(process.env.NDC_LOG, (l, m) => console.error(`ndc ${l}: ${m}`));
    this.pc = new this.ndc.PeerConnection('oxirtc-interop', { iceServers: [], bindAddress: '127.0.0.1' });
    this.gatheredP = new Promise((r) => this.pc.onGatheringStateChange((st) => { if (st === 'complete') r(); }));
    this.stateListeners = [];
    this.pc.onIceStateChange((st) => ev(`ice ${st}`));
    this.pc.onStateChange((st) => { ev(`pc ${st}`); this.stateListeners.forEach((cb) => cb(st)); });
  }

  wrap(dc, ordered, maxRetransmits) {
    const ch = new Channel(dc.getLabel(), ordered, maxRetransmits);
    ch.send = (m) => (typeof m === 'string' ? dc.sendMessage(m) : dc.sendMessageBinary(m));
    ch.isOpen = () => dc.isOpen();
    ch.close = () => dc.close();
    // node-datachannel keeps one callback per event: register each once here.
    dc.onMessage((m) => ch.emit('message', typeof m === 'string' ? m : Buffer.from(m)));
    dc.onClosed(() => ch.emit('close'));
    dc.onOpen(() => ch.emit('open'));
    if (dc.isOpen()) setImmediate(() => ch.emit('open'));
    return ch;
  }

  createChannel(label, { ordered = true, maxRetransmits } = {}) {
    const init = { unordered: !ordered };
    if (maxRetransmits !== undefined && maxRetransmits !== null) init.maxRetransmits = maxRetransmits;
    // Auto-negotiation: creating the first channel already sets the local offer.
    return this.wrap(this.pc.createDataChannel(label, init), ordered, maxRetransmits ?? null);
  }

  onChannel(cb) { this.pc.onDataChannel((dc) => cb(this.wrap(dc, null, null))); }
  onState(cb) { this.stateListeners.push(cb); }
  state() { return this.pc.state(); }

  async local() { await this.gatheredP; return this.pc.localDescription().sdp; }

  async offer() {
    if (!this.pc.localDescription()) this.pc.setLocalDescription();
    return this.local();
  }

  async answer(sdp) { this.pc.setRemoteDescription(sha256FingerprintOnly(sdp), 'offer'); return this.local(); }
  async applyAnswer(sdp) { this.pc.setRemoteDescription(sha256FingerprintOnly(sdp), 'answer'); }

  info() {
    const out = { connectionState: this.pc.state() };
    try {
      const p = this.pc.getSelectedCandidatePair();
      if (p) out.selectedPair = { local: p.local.candidate, remote: p.remote.candidate };
      out.rttMs = this.pc.rtt();
    } catch (e) { out.infoError = String(e); }
    return out;
  }

  // libdatachannel closes from its own threads: exiting (or cleanup()) right after close() cuts off its
  // SCTP ABORT and DTLS close_notify, and the other side then waits for ICE consent to fail (30 s).
  async close() {
    this.pc.close();
    for (let i = 0; i < 100 && this.pc.state() !== 'closed'; i++) await sleep(20);
    await sleep(100);
  }
}

/** A fresh peer connection of `impl` ('werift' or 'ndc'). */
export function openStack(impl, ev) {
  if (impl === 'werift') return new WeriftStack(ev);
  if (impl === 'ndc') return new NdcStack(ev);
  throw new Error(`--impl must be werift or ndc, not ${impl}`);
}

/** Before exiting: stops libdatachannel's threads (werift has none to stop). */
export function cleanupStacks(impl) {
  if (impl === 'ndc') { try { require('node-datachannel').cleanup(); } catch { /* already stopped */ } }
}
