/* The SRTP bench's harness over libsrtp2 (built by build.rs when pkg-config finds libsrtp2): a few
 * plain functions so the Rust side never mirrors libsrtp's structs. Used the way libwebrtc uses
 * libsrtp (pc/srtp_session.cc): one session per direction, ssrc_any_outbound / ssrc_any_inbound,
 * replay window 1024, no repeated transmissions, protect and unprotect in place. */
#include <string.h>
#include <srtp2/srtp.h>

/* srtp_init once per process; 0 on success. */
int bench_srtp_init(void) { return (int)srtp_init(); }

/* A session for one direction. profile 0: AES_CM_128_HMAC_SHA1_80, 1: AEAD_AES_128_GCM.
 * key_salt: master key then master salt (30 bytes for 0, 28 for 1). NULL on failure. */
void *bench_srtp_new(int profile, const unsigned char *key_salt, int inbound) {
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    if (profile == 0) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    } else {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    }
    policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy.ssrc.value = 0;
    policy.key = (unsigned char *)key_salt;
    policy.window_size = 1024;
    policy.allow_repeat_tx = 0;
    policy.next = NULL;
    srtp_t session = NULL;
    if (srtp_create(&session, &policy) != srtp_err_status_ok) {
        return NULL;
    }
    return session;
}

/* Protects buf[0..*len] in place (buf has room for the tag); the new length in *len. 0: ok. */
int bench_srtp_protect(void *session, unsigned char *buf, int *len) {
    return (int)srtp_protect((srtp_t)session, buf, len);
}

/* Unprotects buf[0..*len] in place; the plain length in *len. 0: ok. */
int bench_srtp_unprotect(void *session, unsigned char *buf, int *len) {
    return (int)srtp_unprotect((srtp_t)session, buf, len);
}

void bench_srtp_free(void *session) { srtp_dealloc((srtp_t)session); }
