// What a scenario works with: one browser page, one peer process, named checks, info and timings, and
// the signaling steps (browser offers / peer offers / renegotiate) shared by every scenario.
import { post, expectSdp } from './signaling.mjs';
import { attribute, candidates, loopbackOnly } from './sdp.mjs';

export class Context {
  /** `page`: playwright page with window.rtc; `peer`: from startPeer (null: `url` given instead). */
  constructor({ page, peer, url, timeoutMs, peerOffersFirst = false }) {
    this.page = page;
    this.peerOffersFirst = peerOffersFirst;
    this.peer = peer;
    this.url = url || peer.url;
    this.timeoutMs = timeoutMs;
    this.checks = {};
    this.info = {};
    this.timings = {};
    this.session = null;
    this.sdp = { local: [], remote: [] };
    this.pcKeys = [];
  }

  /** Records the named check; returns `ok` so callers can stop early. */
  check(name, ok, detail) {
    this.checks[name] = !!ok;
    if (detail !== undefined) this.info[name] = detail;
    return !!ok;
  }

  /** page.evaluate of `fn(arg)` in the page (where `rtc` is the page API). */
  run(fn, arg) { return this.page.evaluate(fn, arg); }

  /**
   * Browser offers on `pcKey`: creates `channels` ([{key,label,init}]) first, then the offer; `negotiated`
   * ([{id,label,ordered?,maxRetransmits?,maxPacketLifeTime?}]) goes into the offer JSON for the peer.
   */
  async browserOffers({ pcKey = 'pc', channels = [], negotiated, label = 'echo', media = false, videoCodec, simulcast = false } = {}) {
    const t0 = Date.now();
    await this.run((k) => rtc.newPc(k), pcKey);
    this.pcKeys.push(pcKey);
    if (media) this.info.mediaTracks = await this.run((a) => rtc.addMedia(a.k, a.codec), { k: pcKey, codec: videoCodec });
    if (simulcast) this.info.mediaTracks = await this.run((k) => rtc.addSimulcast(k), pcKey);
    for (const c of channels) await this.run((a) => rtc.createChannel(a.pcKey, a.key, a.label, a.init), { pcKey, ...c });
    const offer = loopbackOnly(await this.run((k) => rtc.makeOffer(k), pcKey));
    const t1 = Date.now();
    const body = { type: 'offer', sdp: offer, label, ...(negotiated ? { negotiated } : {}) };
    const ans = expectSdp(await post(this.url, body), 'answer');
    const t2 = Date.now();
    this.session = ans.session ?? null;
    this.remember(offer, ans.sdp);
    this.lastAnswer = ans.sdp;
    await this.run((a) => rtc.applyAnswer(a.k, a.sdp), { k: pcKey, sdp: loopbackOnly(ans.sdp) });
    this.timings.signalingMs = Date.now() - t0;
    // Where the time went: Chromium's offer incl. complete gathering, the peer's answer (HTTP round trip).
    this.timings.offerGatheredMs = t1 - t0;
    this.timings.peerAnswerMs = t2 - t1;
    return ans;
  }

  /**
   * Connects with `channels` on the browser side: browser offers (default), or with `--peer-offers` the
   * peer offers first (its channel `peer-echo`), then the browser creates the channels in-band, so the
   * same scenario runs with Chromium as DTLS client and the peer as DTLS server.
   */
  async connect({ pcKey = 'pc', channels = [], negotiated } = {}) {
    if (!this.peerOffersFirst) return this.browserOffers({ pcKey, channels, negotiated });
    const d = await this.peerOffers({ pcKey, label: 'peer-echo', key: `${pcKey}-peer-echo`, negotiated });
    this.check('peerOfferedChannelArrived', d !== null);
    for (const c of channels) await this.run((a) => rtc.createChannel(a.pcKey, a.key, a.label, a.init), { pcKey, ...c });
    return d;
  }

  /** Peer offers (it creates channel `label`); the browser answers and waits for that channel as `key`. */
  async peerOffers({ pcKey = 'pc', label = 'echo', key = 'echo', negotiated, media = false, videoCodec } = {}) {
    const t0 = Date.now();
    await this.run((k) => rtc.newPc(k), pcKey);
    this.pcKeys.push(pcKey);
    const req = { type: 'request-offer', label, ...(negotiated ? { negotiated } : {}), ...(media ? { media } : {}), ...(videoCodec ? { videoCodec } : {}) };
    const off = expectSdp(await post(this.url, req), 'offer');
    this.session = off.session ?? null;
    this.lastOffer = off.sdp;
    const answer = loopbackOnly(await this.run((a) => rtc.applyOffer(a.k, a.sdp, a.media, a.codec),
      { k: pcKey, sdp: loopbackOnly(off.sdp), media, codec: videoCodec }));
    await post(this.url, { type: 'answer', sdp: answer, session: this.session });
    this.remember(answer, off.sdp);
    this.timings.signalingMs = Date.now() - t0;
    return this.run((a) => rtc.waitIncoming(a.pcKey, a.label, a.key, a.ms), { pcKey, label, key, ms: this.timeoutMs });
  }

  /** Browser makes a new offer in the same session (ICE restart, new negotiated channels). */
  async renegotiate({ pcKey = 'pc', negotiated } = {}) {
    const offer = loopbackOnly(await this.run((k) => rtc.makeOffer(k), pcKey));
    const body = { type: 'offer', sdp: offer, session: this.session, ...(negotiated ? { negotiated } : {}) };
    const ans = expectSdp(await post(this.url, body), 'answer');
    this.remember(offer, ans.sdp);
    await this.run((a) => rtc.applyAnswer(a.k, a.sdp), { k: pcKey, sdp: loopbackOnly(ans.sdp) });
    return { offer, answer: ans.sdp };
  }

  remember(local, remote) {
    this.sdp.local.push({ iceUfrag: attribute(local, 'ice-ufrag'), setup: attribute(local, 'setup'), candidates: candidates(local) });
    this.sdp.remote.push({ iceUfrag: attribute(remote, 'ice-ufrag'), setup: attribute(remote, 'setup'),
      maxMessageSize: attribute(remote, 'max-message-size'), fingerprint: attribute(remote, 'fingerprint'),
      candidates: candidates(remote) });
  }

  /** Waits for channel `key` to open; checks it as `<key>Open` and returns its description. */
  async opened(key, name = `${key}Open`) {
    const d = await this.run((a) => rtc.waitOpen(a.key, a.ms), { key, ms: this.timeoutMs });
    this.check(name, d.readyState === 'open');
    return d;
  }

  /** rtc.echo on channel `key`; see page/rtc.js. */
  echo(key, spec, opts = {}) {
    return this.run((a) => rtc.echo(a.key, a.spec, a.opts), { key, spec, opts: { ms: this.timeoutMs, ...opts } });
  }
}

/** `n` messages of one kind and length. */
export const msgs = (n, kind, len) => Array.from({ length: n }, () => ({ kind, len }));
