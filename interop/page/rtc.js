// Browser side of the harness: RTCPeerConnections and data channels kept by string keys, driven step by
// step from Node (page.evaluate). Every function returns plain JSON-able data. Times are ms since load.
'use strict';
(() => {
  const now = () => Math.round(performance.now());
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const pcs = new Map();
  const chans = new Map();

  function pcOf(key) {
    const p = pcs.get(key);
    if (!p) throw new Error(`no peer connection ${key}`);
    return p;
  }
  function chOf(key) {
    const c = chans.get(key);
    if (!c) throw new Error(`no channel ${key}`);
    return c;
  }
  /** Polls `cond` every 10 ms; resolves true when it holds, false after `ms`. */
  async function until(cond, ms) {
    const end = performance.now() + ms;
    while (!cond()) {
      if (performance.now() > end) return false;
      await sleep(10);
    }
    return true;
  }

  // ----- messages: generated from a compact spec, identified by kind + SHA-256 ----------------------
  function makeMessage(m, i) {
    if (m.kind === 'text') {
      if (!m.len) return '';
      const head = `m${i}:`;
      return (head + 'x'.repeat(Math.max(0, m.len - head.length))).slice(0, m.len);
    }
    const b = new Uint8Array(m.len || 0);
    for (let j = 0; j < b.length; j++) b[j] = (i * 31 + j * 7 + (j >> 8)) & 255;
    if (b.length >= 4) new DataView(b.buffer).setUint32(0, i);
    return b.buffer;
  }
  async function keyOf(data) {
    const text = typeof data === 'string';
    const bytes = text ? new TextEncoder().encode(data) : new Uint8Array(data);
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const hex = Array.from(d.slice(0, 12), (x) => x.toString(16).padStart(2, '0')).join('');
    return `${text ? 'text' : 'binary'}:${bytes.length}:${hex}`;
  }

  function wire(p, dc, key) {
    const c = { key, dc, events: [], inbox: [], stray: 0, probes: 0, openAt: null, closeAt: null, errors: [] };
    dc.binaryType = 'arraybuffer';
    const ev = (e) => { c.events.push(`${now()}ms ${e}`); p.events.push(`${now()}ms dc ${key}(${dc.label}#${dc.id}) ${e}`); };
    dc.addEventListener('open', () => { if (c.openAt === null) { c.openAt = now(); ev('open'); } });
    dc.addEventListener('close', () => { c.closeAt = now(); ev('close'); });
    dc.addEventListener('closing', () => ev('closing'));
    dc.addEventListener('error', (e) => { const m = String(e.error && e.error.message); c.errors.push(m); ev('error ' + m); });
    dc.addEventListener('message', (m) => {
      // A probe some test peers send on open (`echo-me:X` -> `echo-reply:X`): answered, never counted as
      // an echo, so it cannot race with a collection.
      if (typeof m.data === 'string' && m.data.startsWith('echo-me:')) {
        c.probes++;
        dc.send('echo-reply:' + m.data.slice(8));
        return;
      }
      if (c.collect) c.inbox.push(m.data); else c.stray++;
    });
    if (dc.readyState === 'open' && c.openAt === null) { c.openAt = now(); ev('open (already)'); }
    chans.set(key, c);
    return describe(c);
  }
  function describe(c) {
    const d = c.dc;
    return { key: c.key, label: d.label, id: d.id, ordered: d.ordered, maxRetransmits: d.maxRetransmits,
      maxPacketLifeTime: d.maxPacketLifeTime, negotiated: d.negotiated, protocol: d.protocol,
      readyState: d.readyState, openAt: c.openAt, closeAt: c.closeAt, stray: c.stray, probes: c.probes, errors: c.errors };
  }

  const rtc = {
    /** New RTCPeerConnection: no ICE servers (loopback only) unless the runner set `window.rtcConfig`. */
    newPc(key) {
      const pc = new RTCPeerConnection(window.rtcConfig || { iceServers: [] });
      const p = { pc, key, createdAt: now(), events: [], gathered: [], incoming: [], remoteTracks: [] };
      pc.ontrack = (e) => {
        p.remoteTracks.push(e.track.kind);
        // Chromium decodes received audio only while it plays out; video is decoded regardless.
        const el = document.createElement(e.track.kind);
        el.autoplay = true;
        el.srcObject = new MediaStream([e.track]);
        document.body.appendChild(el);
        el.play().catch(() => {});
      };
      const ev = (e) => p.events.push(`${now()}ms ${e}`);
      pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) p.gathered.push(e.candidate.candidate); };
      pc.oniceconnectionstatechange = () => ev('ice ' + pc.iceConnectionState);
      pc.onconnectionstatechange = () => ev('pc ' + pc.connectionState);
      pc.onsignalingstatechange = () => ev('signaling ' + pc.signalingState);
      pc.ondatachannel = (e) => { ev(`ondatachannel ${e.channel.label}#${e.channel.id}`); p.incoming.push(e.channel); };
      pcs.set(key, p);
      return p.createdAt;
    },
    /**
     * Adds the fake camera's and microphone's tracks (Chromium's --use-fake-device-for-media-stream);
     * with `videoCodec` (VP8, VP9, H264, AV1) the video transceiver offers only that codec (with the
     * repair formats), W3C setCodecPreferences.
     */
    async addMedia(pcKey, videoCodec) {
      const p = pcOf(pcKey);
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      for (const t of stream.getTracks()) p.pc.addTrack(t, stream);
      if (videoCodec) {
        const caps = RTCRtpReceiver.getCapabilities('video').codecs;
        const want = caps.filter((c) => c.mimeType.toLowerCase() === `video/${videoCodec.toLowerCase()}`);
        if (want.length === 0) throw new Error(`this Chromium cannot do ${videoCodec}`);
        const repair = caps.filter((c) => /\/(rtx|red|ulpfec)$/i.test(c.mimeType));
        for (const t of p.pc.getTransceivers()) {
          if (t.sender.track && t.sender.track.kind === 'video') t.setCodecPreferences([...want, ...repair]);
        }
      }
      return stream.getTracks().map((t) => t.kind);
    },
    /**
     * Sends the fake camera (asked for 1280x720) as three simulcast streams, rids q/h/f at 1/4, 1/2
     * and full resolution (RFC 8853, W3C sendEncodings), send-only.
     */
    async addSimulcast(pcKey) {
      const p = pcOf(pcKey);
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
      p.pc.addTransceiver(stream.getVideoTracks()[0], {
        direction: 'sendonly',
        streams: [stream],
        sendEncodings: [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }],
      });
      return ['video'];
    },
    /**
     * WHIP (RFC 9725): publishes the fake camera and microphone to `url` (send-only), non-trickle.
     * Returns the HTTP status and the session's Location.
     */
    async whipPublish(pcKey, url) {
      const p = pcOf(pcKey);
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      for (const t of stream.getTracks()) p.pc.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
      return rtc.whipExchange(pcKey, url);
    },
    /** WHEP: receive-only audio and video from `url`; received tracks play (see newPc). */
    async whepSubscribe(pcKey, url) {
      const p = pcOf(pcKey);
      p.pc.addTransceiver('audio', { direction: 'recvonly' });
      p.pc.addTransceiver('video', { direction: 'recvonly' });
      return rtc.whipExchange(pcKey, url);
    },
    async whipExchange(pcKey, url) {
      const pc = pcOf(pcKey).pc;
      await pc.setLocalDescription(await pc.createOffer());
      await until(() => pc.iceGatheringState === 'complete', 5000);
      const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
      const answer = await r.text();
      if (r.status !== 201) return { status: r.status, error: answer };
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      return { status: r.status, location: r.headers.get('Location'), link: r.headers.get('Link') };
    },
    /** outbound-rtp of every simulcast stream: rid, packets, size. */
    async simulcastStats(pcKey) {
      const out = [];
      (await pcOf(pcKey).pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          out.push({ rid: s.rid, packetsSent: s.packetsSent, frameWidth: s.frameWidth, frameHeight: s.frameHeight,
            qualityLimitationReason: s.qualityLimitationReason });
        }
      });
      return out;
    },
    /** Per kind: packets and bytes the browser sent (outbound-rtp), and its transceivers' directions. */
    async mediaStats(pcKey) {
      const p = pcOf(pcKey), pc = p.pc;
      const out = { outbound: {}, inbound: {}, remoteInbound: {}, remoteOutbound: {}, directions: {}, remoteTracks: p.remoteTracks || [] };
      const stats = await pc.getStats();
      const codecOf = (s) => (s.codecId && stats.get(s.codecId) ? stats.get(s.codecId).mimeType : null);
      stats.forEach((s) => {
        if (s.type === 'outbound-rtp') {
          out.outbound[s.kind] = { packetsSent: s.packetsSent, bytesSent: s.bytesSent, pliCount: s.pliCount,
            keyFramesEncoded: s.keyFramesEncoded, framesEncoded: s.framesEncoded, framesSent: s.framesSent,
            codec: codecOf(s), nackCount: s.nackCount, encoderImplementation: s.encoderImplementation };
        }
        // What the peer's RTCP told the browser: receiver reports (RTT, loss) and sender reports.
        if (s.type === 'remote-inbound-rtp') {
          out.remoteInbound[s.kind] = { roundTripTime: s.roundTripTime, packetsLost: s.packetsLost,
            roundTripTimeMeasurements: s.roundTripTimeMeasurements };
        }
        if (s.type === 'remote-outbound-rtp') {
          out.remoteOutbound[s.kind] = { packetsSent: s.packetsSent, reportsSent: s.reportsSent };
        }
        if (s.type === 'inbound-rtp') {
          out.inbound[s.kind] = { packetsReceived: s.packetsReceived, packetsLost: s.packetsLost, codec: codecOf(s),
            framesReceived: s.framesReceived, framesDecoded: s.framesDecoded, keyFramesDecoded: s.keyFramesDecoded,
            framesDropped: s.framesDropped, pliCount: s.pliCount, firCount: s.firCount, nackCount: s.nackCount,
            freezeCount: s.freezeCount, decoderImplementation: s.decoderImplementation,
            totalSamplesReceived: s.totalSamplesReceived, concealedSamples: s.concealedSamples,
            frameWidth: s.frameWidth, frameHeight: s.frameHeight };
        }
      });
      for (const t of pc.getTransceivers()) out.directions[t.mid] = { kind: t.receiver.track.kind, current: t.currentDirection };
      return out;
    },
    /** Stops sending on every sender (replaceTrack(null)): the encoders stop; returns the kinds. */
    async stopSending(pcKey) {
      const kinds = [];
      for (const s of pcOf(pcKey).pc.getSenders()) {
        if (s.track) { kinds.push(s.track.kind); await s.replaceTrack(null); }
      }
      return kinds;
    },
    /** pc.createDataChannel(label, init) registered as `chKey`. */
    createChannel(pcKey, chKey, label, init) {
      const p = pcOf(pcKey);
      return wire(p, p.pc.createDataChannel(label, init || {}), chKey);
    },
    /** Waits for an ondatachannel with `label` and registers it as `chKey`; null on timeout. */
    async waitIncoming(pcKey, label, chKey, ms) {
      const p = pcOf(pcKey);
      const ok = await until(() => p.incoming.some((d) => d.label === label), ms);
      if (!ok) return null;
      const i = p.incoming.findIndex((d) => d.label === label);
      return wire(p, p.incoming.splice(i, 1)[0], chKey);
    },
    /** Waits until the channel is open; returns its description (readyState tells if it worked). */
    async waitOpen(chKey, ms) {
      const c = chOf(chKey);
      await until(() => c.openAt !== null || c.dc.readyState === 'closed', ms);
      return describe(c);
    },
    /** Waits for the channel's close event; returns true if it fired within `ms`. */
    async waitClosed(chKey, ms) { const c = chOf(chKey); return until(() => c.closeAt !== null, ms); },
    describe(chKey) { return describe(chOf(chKey)); },
    closeChannel(chKey) { chOf(chKey).dc.close(); },
    sendText(chKey, text) { chOf(chKey).dc.send(text); },
    /** Sends one binary message of `size` bytes; reports whether send() threw (and what). */
    trySend(chKey, size) {
      try { chOf(chKey).dc.send(new Uint8Array(size)); return { threw: false }; } catch (e) { return { threw: true, error: `${e.name}: ${e.message}` }; }
    },
    /**
     * Sends messages made from `spec` ([{kind:'text'|'binary', len}], one per entry) and collects what
     * comes back on the channel until all came back, or `quietMs` passed without a new message once at
     * least `minFraction` of them came back, or `ms` passed after the last send. Compares
     * by kind+length+SHA-256.
     */
    async echo(chKey, spec, { ms = 20000, minFraction = 1, quietMs = 1500, batch = 0, batchWaitMs = 300, highWater = 0 } = {}) {
      const c = chOf(chKey);
      const sent = spec.map(makeMessage);
      const want = await Promise.all(sent.map(keyOf));
      c.inbox = [];
      c.collect = true;
      const t0 = performance.now();
      let sendError = null;
      try {
        // All at once, or (batch > 0) `batch` messages at a time, each batch after the previous one came
        // back or `batchWaitMs` passed: partially reliable channels then are not measured on bursts
        // that overflow a socket buffer.
        const step = batch > 0 ? batch : sent.length;
        for (let i = 0; i < sent.length; i += step) {
          if (i > 0) await until(() => c.inbox.length >= i, batchWaitMs);
          for (const m of sent.slice(i, i + step)) {
            // highWater > 0: keep at most that many bytes queued (Chromium's send queue is bounded).
            if (highWater > 0) await until(() => c.dc.bufferedAmount < highWater, ms);
            c.dc.send(m);
          }
        }
      } catch (e) { sendError = `${e.name}: ${e.message}`; }
      let lastCount = 0, lastAt = performance.now();
      await until(() => {
        if (c.inbox.length !== lastCount) { lastCount = c.inbox.length; lastAt = performance.now(); }
        if (c.inbox.length >= sent.length) return true;
        return c.inbox.length >= minFraction * sent.length && performance.now() - lastAt > quietMs;
      }, ms);
      const elapsedMs = Math.round(performance.now() - t0);
      c.collect = false;
      const got = await Promise.all(c.inbox.map(keyOf));
      const pool = new Map();
      for (const k of want) pool.set(k, (pool.get(k) || 0) + 1);
      let matched = 0;
      const unexpected = [];
      for (const k of got) {
        if (pool.get(k) > 0) { pool.set(k, pool.get(k) - 1); matched++; } else if (unexpected.length < 5) unexpected.push(k);
      }
      const inOrder = got.length === want.length && got.every((k, i) => k === want[i]);
      return { sent: sent.length, received: got.length, matched, inOrder, unexpected, sendError, elapsedMs,
        missingExample: [...pool.entries()].filter(([, n]) => n > 0).slice(0, 3).map(([k]) => k) };
    },
    /** Sets a new local offer (after waiting for gathering to complete) and returns its SDP. */
    async makeOffer(pcKey) {
      const p = pcOf(pcKey);
      await p.pc.setLocalDescription();
      const sdp = await rtc.gathered(pcKey);
      p.offerReadyAt = now();
      return sdp;
    },
    async applyAnswer(pcKey, sdp) {
      const p = pcOf(pcKey);
      p.answerAt = now();
      await p.pc.setRemoteDescription({ type: 'answer', sdp });
    },
    /** Applies a remote offer, sets the local answer, returns it once gathering completed. */
    async applyOffer(pcKey, sdp, media, videoCodec) {
      const p = pcOf(pcKey);
      await p.pc.setRemoteDescription({ type: 'offer', sdp });
      // addTrack after the remote offer takes the offered transceivers, so the answer sends on them.
      if (media) await rtc.addMedia(pcKey, videoCodec);
      await p.pc.setLocalDescription();
      return rtc.gathered(pcKey);
    },
    /** Non-trickle: the local description once ICE gathering is complete (or after 5 s). */
    async gathered(pcKey) {
      const pc = pcOf(pcKey).pc;
      await until(() => pc.iceGatheringState === 'complete', 5000);
      return pc.localDescription.sdp;
    },
    restartIce(pcKey) { pcOf(pcKey).pc.restartIce(); },
    /** Waits until iceConnectionState is one of `states`; returns the state reached. */
    async waitIce(pcKey, states, ms) {
      const pc = pcOf(pcKey).pc;
      await until(() => states.includes(pc.iceConnectionState), ms);
      return pc.iceConnectionState;
    },
    /** Page-clock marks of the last offer/answer: created, offer ready (gathered), answer arrived. */
    marks(pcKey) { const p = pcOf(pcKey); return { createdAt: p.createdAt, offerReadyAt: p.offerReadyAt, answerAt: p.answerAt }; },
    /** ICE ufrags of the selected pair's candidates (polls until the local one is `ufrag`, or `ms`). */
    async waitSelectedUfrag(pcKey, ufrag, ms) {
      const pc = pcOf(pcKey).pc;
      const end = performance.now() + ms;
      let out = { local: null, remote: null };
      for (;;) {
        const by = {};
        (await pc.getStats()).forEach((s) => { by[s.id] = s; });
        const t = Object.values(by).find((s) => s.type === 'transport');
        const pair = t && by[t.selectedCandidatePairId];
        if (pair) {
          out = { local: by[pair.localCandidateId]?.usernameFragment ?? null,
            remote: by[pair.remoteCandidateId]?.usernameFragment ?? null, iceState: pc.iceConnectionState };
        }
        if (out.local === ufrag || performance.now() > end) return out;
        await sleep(50);
      }
    },
    maxMessageSize(pcKey) { const s = pcOf(pcKey).pc.sctp; return s ? s.maxMessageSize : null; },
    /** Transport, selected pair and data-channel figures from getStats, plus our event log. */
    async stats(pcKey) {
      const p = pcOf(pcKey), pc = p.pc, by = {};
      (await pc.getStats()).forEach((s) => { by[s.id] = s; });
      const out = { iceConnectionState: pc.iceConnectionState, connectionState: pc.connectionState,
        signalingState: pc.signalingState, sctpMaxMessageSize: pc.sctp && pc.sctp.maxMessageSize, dataChannels: [] };
      let pairId = null;
      for (const s of Object.values(by)) {
        if (s.type === 'transport') {
          Object.assign(out, { dtlsState: s.dtlsState, dtlsRole: s.dtlsRole, tlsVersion: s.tlsVersion,
            dtlsCipher: s.dtlsCipher, srtpCipher: s.srtpCipher, iceRole: s.iceRole, iceState: s.iceState,
            selectedCandidatePairChanges: s.selectedCandidatePairChanges });
          pairId = s.selectedCandidatePairId;
        }
        if (s.type === 'data-channel') out.dataChannels.push({ label: s.label, id: s.dataChannelIdentifier, state: s.state,
          messagesSent: s.messagesSent, messagesReceived: s.messagesReceived, bytesSent: s.bytesSent, bytesReceived: s.bytesReceived });
      }
      const pair = pairId && by[pairId];
      if (pair) {
        const side = (c) => c && `${c.address}:${c.port}/${c.protocol} ${c.candidateType}`;
        out.selectedPair = { local: side(by[pair.localCandidateId]), remote: side(by[pair.remoteCandidateId]),
          rttMs: pair.currentRoundTripTime != null ? Math.round(pair.currentRoundTripTime * 1000) : null };
      }
      return { ...out, createdAt: p.createdAt, gathered: p.gathered, events: p.events };
    },
    closePc(pcKey) { const p = pcs.get(pcKey); if (p) p.pc.close(); },
  };
  window.rtc = rtc;
})();
