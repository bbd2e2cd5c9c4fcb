// What the werift / libdatachannel peer scripts share: loopback-only SDP, the namespace guard, the
// libdatachannel fingerprint workaround, versions.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NETNS_ENV, exposedAddresses } from '../lib/netns.mjs';

const INTEROP = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The version of an npm package installed in interop/node_modules. */
export function version(pkg) {
  return JSON.parse(fs.readFileSync(path.join(INTEROP, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

const isLoopbackCandidate = (line) => {
  const addr = line.replace(/^a=/, '').split(' ')[4] || '';
  return addr.startsWith('127.') || addr === '::1';
};

/** The SDP without its non-loopback `a=candidate` lines. */
export function loopbackOnly(sdp) {
  return sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || isLoopbackCandidate(l)).join('\r\n');
}

/** The `a=candidate` lines of an SDP, without `a=`. */
export function candidateLines(sdp) {
  return sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
}

/**
 * libdatachannel 0.24 keeps only the LAST a=fingerprint line and fixes the hash algorithm when DTLS
 * starts, which on loopback can be before the remote description is stored: a remote SDP listing
 * sha-256 then sha-384/512 fails now and then with "certificate verify failed". Keep only the sha-256
 * line when there is one. (oxirtc sends one sha-256 line, so this changes nothing for it.)
 */
export function sha256FingerprintOnly(sdp) {
  const lines = sdp.split('\r\n');
  const fps = lines.filter((l) => l.startsWith('a=fingerprint:'));
  if (fps.length < 2 || !fps.some((l) => /^a=fingerprint:sha-256 /i.test(l))) return sdp;
  return lines.filter((l) => !l.startsWith('a=fingerprint:') || /^a=fingerprint:sha-256 /i.test(l)).join('\r\n');
}

/**
 * werift gathers on every non-loopback interface (it skips loopback, which we add by hand), so its
 * scripts run only where loopback is all there is: inside `peers/cell.mjs`'s namespace.
 * OXIRTC_INTEROP_NO_NETNS=1 overrides (unsafe outside a namespace you made yourself).
 */
export function requireLoopbackOnly(what) {
  const exposed = exposedAddresses();
  if (exposed.length && !process.env[NETNS_ENV] && process.env.OXIRTC_INTEROP_NO_NETNS !== '1') {
    console.error(`${what} would also use ${exposed.join(' ')}: run it through peers/cell.mjs (a loopback-only ` +
      'network namespace), or set OXIRTC_INTEROP_NO_NETNS=1 inside a namespace you made yourself');
    process.exit(2);
  }
}

/** Refuses a signaling URL that is not on loopback. */
export function requireLoopbackUrl(url) {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) {
    console.error(`refusing non-loopback signaling host ${host} in ${url}`);
    process.exit(2);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
