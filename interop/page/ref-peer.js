// Browser side of ref-peer.mjs: the peer end of the signaling protocol (README.md), one
// RTCPeerConnection per session, every channel echoing, `cmd:close` / `cmd:open:LABEL` obeyed.
'use strict';
(() => {
  const sessions = new Map();
  const now = () => Math.round(performance.now());
  let nextId = 1;

  function wire(s, dc) {
    dc.binaryType = 'arraybuffer';
    s.channels.push(dc.label);
    dc.onopen = () => s.ev(`open ${dc.label}#${dc.id}`);
    dc.onclose = () => s.ev(`close ${dc.label}#${dc.id}`);
    let held = null;
    dc.onmessage = (m) => {
      if (typeof m.data === 'string' && m.data.startsWith('cmd:')) {
        if (window.ref.fault === 'ignore-cmd') return;
        if (m.data === 'cmd:close') dc.close();
        else if (m.data.startsWith('cmd:open:')) wire(s, s.pc.createDataChannel(m.data.slice(9)));
        s.ev(m.data);
        return;
      }
      s.echoed += 1;
      const fault = window.ref.fault;
      if (fault === 'drop-10th' && s.echoed % 10 === 0) return;
      if (fault === 'reorder' && held === null) { held = m.data; return; }
      dc.send(fault ? faulty(fault, m.data) : m.data); // string stays text, ArrayBuffer stays binary
      if (held !== null) { dc.send(held); held = null; }
    };
  }
  // Deliberate faults (ref-peer.mjs --fault NAME) to show the harness catches a broken peer.
  function faulty(fault, data) {
    if (fault === 'text-as-binary' && typeof data === 'string') return new TextEncoder().encode(data);
    if (fault === 'corrupt' && typeof data === 'string' && data.length) return data.slice(0, -1) + '#';
    if (fault === 'corrupt' && typeof data !== 'string' && data.byteLength) {
      const b = new Uint8Array(data.slice(0));
      b[b.length - 1] ^= 1;
      return b;
    }
    return data;
  }
  function addNegotiated(s, list) {
    for (const n of list || []) {
      const init = { negotiated: true, id: n.id };
      for (const k of ['ordered', 'maxRetransmits', 'maxPacketLifeTime']) if (n[k] !== undefined) init[k] = n[k];
      wire(s, s.pc.createDataChannel(n.label || `negotiated-${n.id}`, init));
    }
  }
  async function localSdp(pc) {
    await pc.setLocalDescription();
    const end = performance.now() + 5000;
    while (pc.iceGatheringState !== 'complete' && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
    return pc.localDescription.sdp;
  }
  function newSession() {
    const id = `ref${nextId++}`;
    const pc = new RTCPeerConnection({ iceServers: [] });
    const s = { id, pc, t0: now(), events: [], channels: [], echoed: 0, ended: false };
    s.ev = (e) => s.events.push(`${now() - s.t0}ms ${e}`);
    pc.ondatachannel = (e) => wire(s, e.channel);
    pc.onconnectionstatechange = () => {
      s.ev(`pc ${pc.connectionState}`);
      if (['failed', 'closed'].includes(pc.connectionState)) s.ended = true;
    };
    sessions.set(id, s);
    return s;
  }
  function get(id) {
    const s = sessions.get(id);
    if (!s) throw new Error(`unknown session ${id}`);
    return s;
  }
  // The SCTP association or DTLS transport closed (the browser closed its peer connection).
  function transportClosed(s) {
    const sctp = s.pc.sctp;
    return s.ended || (sctp && (sctp.state === 'closed' || sctp.transport.state === 'closed'));
  }

  window.ref = {
    fault: null,
    async offer(msg) {
      const s = msg.session ? get(msg.session) : newSession();
      addNegotiated(s, msg.negotiated);
      await s.pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
      return { type: 'answer', sdp: await localSdp(s.pc), session: s.id };
    },
    async requestOffer(msg) {
      const s = newSession();
      wire(s, s.pc.createDataChannel(msg.label || 'echo'));
      addNegotiated(s, msg.negotiated);
      return { type: 'offer', sdp: await localSdp(s.pc), session: s.id };
    },
    async answer(msg) {
      const s = get(msg.session);
      addNegotiated(s, msg.negotiated);
      await s.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
      return {};
    },
    /** Reports of sessions whose transport closed since the last call (each reported once). */
    finished() {
      const out = [];
      for (const s of sessions.values()) {
        if (!s.reported && s.pc.sctp && transportClosed(s)) {
          s.reported = true;
          out.push({ session: s.id, echoed: s.echoed, channels: s.channels, events: s.events, durationMs: now() - s.t0 });
          s.pc.close();
        }
      }
      return out;
    },
  };
})();
