// The HTTP/JSON signaling client (protocol: interop/README.md "Signaling protocol").

/** POSTs `body` as JSON to `url`; resolves to the parsed JSON reply, throws on HTTP errors/timeouts. */
export async function post(url, body, timeoutMs = 15000) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new Error(`signaling POST ${body.type} to ${url} failed: ${e.cause?.message || e.message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`signaling POST ${body.type} -> HTTP ${res.status}: ${text.slice(0, 300)}`);
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new Error(`signaling POST ${body.type} -> reply is not JSON: ${text.slice(0, 300)}`);
  }
}

/** Throws unless `reply` has `type` and a string `sdp`. */
export function expectSdp(reply, type) {
  if (!reply || reply.type !== type || typeof reply.sdp !== 'string') {
    throw new Error(`peer reply is not {"type":"${type}","sdp":...}: ${JSON.stringify(reply).slice(0, 300)}`);
  }
  return reply;
}
