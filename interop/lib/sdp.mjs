// Small SDP helpers (text level only: the harness never rewrites anything but candidate lines).

const lines = (sdp) => String(sdp || '').split(/\r?\n/);

/** True for an `a=candidate:` line whose connection address is loopback (127.0.0.0/8 or ::1). */
export function isLoopbackCandidate(line) {
  const addr = line.replace(/^a=/, '').split(' ')[4] || '';
  return /^127\./.test(addr) || addr === '::1';
}

/** Drops every non-loopback candidate line, so nothing handed to a peer points off this machine. */
export function loopbackOnly(sdp) {
  return lines(sdp).filter((l) => !l.startsWith('a=candidate:') || isLoopbackCandidate(l)).join('\r\n');
}

/** The `a=candidate:` values of an SDP. */
export function candidates(sdp) {
  return lines(sdp).filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
}

/** Value of the first `a=NAME:` attribute, or null. */
export function attribute(sdp, name) {
  const l = lines(sdp).find((x) => x.startsWith(`a=${name}:`));
  return l ? l.slice(name.length + 3).trim() : null;
}
