// Scenario registry, in the order `--scenario all` runs them.
import { answerBasic, bulk, maxPacketLifetime, maxRetransmits0, negotiated, offerBasic, sizes, unordered } from './channels.mjs';
import { closeReopen, iceRestart, manyChannels, peerOpens, setupTime } from './lifecycle.mjs';
import {
  answerMedia, answerMediaAv1, answerMediaH264, answerMediaVp9, offerMedia, offerMediaAv1, offerMediaH264, offerMediaVp9,
  simulcastReceive, whipWhep,
} from './media.mjs';
import {
  recordAv1, recordH264, recordVp8, recordVp9, sendMediaAv1, sendMediaH264, sendMediaVp8, sendMediaVp9,
} from './media-files.mjs';

export const SCENARIOS = {
  'offer-basic': offerBasic,
  'answer-basic': answerBasic,
  unordered,
  'max-retransmits-0': maxRetransmits0,
  'max-packet-lifetime': maxPacketLifetime,
  negotiated,
  sizes,
  bulk,
  'many-channels': manyChannels,
  'close-reopen': closeReopen,
  'peer-opens': peerOpens,
  'ice-restart': iceRestart,
  'setup-time': setupTime,
  'offer-media': offerMedia,
  'offer-media-vp9': offerMediaVp9,
  'offer-media-h264': offerMediaH264,
  'offer-media-av1': offerMediaAv1,
  'answer-media': answerMedia,
  'answer-media-vp9': answerMediaVp9,
  'answer-media-h264': answerMediaH264,
  'answer-media-av1': answerMediaAv1,
  'simulcast-receive': simulcastReceive,
  'whip-whep': whipWhep,
  'send-media-vp8': sendMediaVp8,
  'send-media-vp9': sendMediaVp9,
  'send-media-h264': sendMediaH264,
  'send-media-av1': sendMediaAv1,
  'record-vp8': recordVp8,
  'record-vp9': recordVp9,
  'record-h264': recordH264,
  'record-av1': recordAv1,
};

/**
 * Scenarios that choose their own roles (the media ones come in offer-* and answer-* pairs):
 * `--scenario all --peer-offers` leaves them out instead of running them a second time unchanged.
 */
export const ROLE_FIXED = new Set(Object.keys(SCENARIOS).filter((n) => /^(offer|answer)-media|^simulcast|^whip|^send-media|^record-/.test(n)));
